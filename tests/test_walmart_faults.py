"""Rate limits and injected faults: each becomes the right exception for the sync engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator import control
from webapp.walmart import MalformedResponse, RateLimited, TransientError


@pytest.fixture
def walmart_speed(sim):
    """Walmart's real limits for this test, then the fast test scale again."""
    control.set_rate_scale(sim.conn, 1)
    yield
    control.set_rate_scale(sim.conn, 1000)


def test_rate_limit_gives_429_with_walmarts_headers(sim, walmart_speed):
    """Past 60 acknowledgements a minute Walmart answers 429; the client says when to retry."""
    seller = sim.seller(seed_orders=1)
    client = seller.client()
    po = client.released_orders().orders[0].purchase_order_id
    for _ in range(60):
        client.acknowledge(po)
    assert client.rate.token_count == 0
    with pytest.raises(RateLimited) as caught:
        client.acknowledge(po)
    assert caught.value.retry_at > datetime.now(UTC)
    assert (caught.value.retry_at - datetime.now(UTC)).total_seconds() < 5
    last = seller.requests()[-1]
    assert last["status"] == 429 and "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API" in \
        last["response"]
    assert client.get_order(po)  # order reads have their own, larger bucket


@pytest.mark.parametrize("kind, error, status", [
    ("error", TransientError, 500),
    ("malformed", MalformedResponse, 200),
    ("throttle", RateLimited, None),
])
def test_injected_faults_become_typed_errors(sim, kind, error, status):
    """5xx, broken JSON and 429 raise the exception the sync engine retries on."""
    seller = sim.seller(seed_orders=2)
    client = seller.client()
    client.released_orders()
    control.set_faults(sim.conn, "released", next={kind: 1})
    with pytest.raises(error) as caught:
        client.released_orders()
    if status:
        assert caught.value.status == status
    assert client.released_orders().orders  # the fault was used up


def test_a_down_gateway_is_transient(sim):
    """A bare 503 from an unreachable gateway is retried later, not a data error."""
    seller = sim.seller(seed_orders=1)
    client = seller.client()
    client.released_orders()
    control.set_faults(sim.conn, "*", down=True)
    with pytest.raises(TransientError) as caught:
        client.released_orders()
    assert caught.value.status == 503 and not caught.value.ambiguous


def test_a_timeout_before_acting_changes_nothing(sim):
    """Walmart hanging past our read timeout is transient; on a POST it is ambiguous."""
    seller = sim.seller(seed_orders=1)
    client = seller.client(read_timeout=0.5)
    po = client.released_orders().orders[0].purchase_order_id
    control.set_faults(sim.conn, "acknowledge", next={"timeout": 1}, hang_seconds=1.5)
    with pytest.raises(TransientError) as caught:
        client.acknowledge(po)
    assert caught.value.ambiguous
    statuses = {s.status for line in client.get_order(po).lines for s in line.statuses}
    assert statuses == {"Created"}


def test_a_timeout_after_acting_is_ambiguous_and_read_back_tells(sim):
    """When Walmart applied a shipment but the answer timed out, reading the order shows it."""
    from webapp.walmart import payloads

    seller = sim.seller(seed_orders=3)
    client = seller.client(read_timeout=0.5)
    order = next(o for o in client.released_orders().orders
                 if not o.lines[0].intent_to_cancel)
    client.acknowledge(order.purchase_order_id)
    line = order.lines[0]
    control.set_faults(sim.conn, "shipping", next={"timeout_after": 1}, hang_seconds=1.5)
    package = payloads.Package("1ZAMBIG", "Standard", datetime.now(UTC),
                               ((line.line_number, line.quantity),), carrier="UPS")
    with pytest.raises(TransientError) as caught:
        client.ship(order.purchase_order_id, payloads.shipment([package], "OD-9"))
    assert caught.value.ambiguous
    back = client.get_order(order.purchase_order_id).line(line.line_number)
    assert back.quantity_in("Shipped") == line.quantity


def test_a_refused_connection_is_not_ambiguous():
    """Nothing listening: the request never left, so it may simply be sent again."""
    from devserver.net import free_port
    from webapp.walmart import WalmartClient

    client = WalmartClient(f"http://127.0.0.1:{free_port()}", "id", "secret",
                           connect_timeout=0.5)
    with pytest.raises(TransientError) as caught:
        client.acknowledge("1")
    assert not caught.value.ambiguous


def test_fault_probabilities_are_configurable_per_endpoint(sim):
    """A 100 % error rate on one endpoint leaves the others working."""
    seller = sim.seller(seed_orders=1)
    client = seller.client()
    po = client.released_orders().orders[0].purchase_order_id
    control.set_faults(sim.conn, "acknowledge", error_rate=1.0)
    for _ in range(3):
        with pytest.raises(TransientError):
            client.acknowledge(po)
    assert client.get_order(po).purchase_order_id == po
    counts = control.counters(sim.conn)
    assert counts["acknowledge"].get("500", 0) >= 3



@pytest.mark.parametrize("seconds, expected", [(20, 20), (3600, 60)])
def test_http_date_replenish_header_is_read_and_capped(sim, seconds, expected):
    """The simulator's 429 with X-Next-Replenishment-Time as an HTTP date: the client's
    retry_at is that time, and never more than Walmart's 60 s window away."""
    seller = sim.seller(seed_orders=1, seed=4)
    client = seller.client()
    [order] = client.released_orders().orders
    control.set_faults(sim.conn, "acknowledge", next={"throttle": 1},
                       replenish_format="http_date", replenish_seconds=seconds)
    before = datetime.now(UTC).replace(microsecond=0)
    with pytest.raises(RateLimited) as caught:
        client.acknowledge(order.purchase_order_id)
    after = datetime.now(UTC)
    assert before + timedelta(seconds=expected) <= caught.value.retry_at <= after + timedelta(
        seconds=expected + 1)
