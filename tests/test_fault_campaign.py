"""Fault campaign (issue 8, item 4): Walmart misbehaving, workers dying, Redis forgetting.

Everything real: the simulator over HTTP (its rate limits scaled up, short client timeouts),
Redis, and RQ workers as their own OS processes (`python -m jobs.worker`). The judge is what a
seller would see: every update at Walmart exactly once (the simulator's request log, calls
answered 200 per purchase order, tracking number or RMA), and Orderdeck agreeing with Walmart
line by line (status, shipped, tracking numbers, canceled, refunded).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select, update

from simulator import control

ROOT = Path(__file__).resolve().parent.parent
READ_TIMEOUT = 1.0   # our client's read timeout in these tests (seconds)
HANG = 1.5           # a simulated timeout stalls this long: longer than READ_TIMEOUT
FAST = {"ORDERDECK_WALMART_CONNECT_TIMEOUT": "2",  # what the worker processes get
        "ORDERDECK_WALMART_READ_TIMEOUT": str(READ_TIMEOUT),
        "ORDERDECK_SYNC_BACKOFF_BASE": "0.2", "ORDERDECK_SYNC_BACKOFF_CAP": "2"}
CARRIER, METHOD = "UPS", "Standard"

pytestmark = pytest.mark.slow  # worker processes and fault-ridden waits: minutes


def campaign_faults() -> dict:
    """20 % 5xx, 10 % 429, 5 % timeouts (half before Walmart acts, half after: ambiguous) and
    2 % malformed JSON, of every call. The simulator draws the kinds one after another, so each
    rate is given as a share of what the earlier kinds left."""
    left, rates = 1.0, {}
    for kind, share in (("error", 0.20), ("timeout", 0.025), ("timeout_after", 0.025),
                        ("malformed", 0.02), ("throttle", 0.10)):
        rates[f"{kind}_rate"] = share / left
        left -= share
    return rates


# -- worker processes ------------------------------------------------------------------------

class Workers:
    """`python -m jobs.worker` processes on the test's database and Redis."""

    def __init__(self, app, logs: Path, simulator_url: str) -> None:
        from tests.conftest import TEST_ENCRYPTION_KEY, TEST_SECRET_KEY

        self.logs = logs
        self.env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                        REDIS_URL=app.config["REDIS_URL"], SECRET_KEY=TEST_SECRET_KEY,
                        ORDERDECK_ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
                        ORDERDECK_INSTANCE=str(logs), PYTHONUNBUFFERED="1",
                        ORDERDECK_SIMULATOR_URL=simulator_url, **FAST)
        self.running: list[subprocess.Popen] = []
        self.started = 0

    def start(self, count: int = 1, **env: str) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            self.started += 1
            with open(self.logs / f"worker-{self.started}.log", "wb") as log:
                started.append(subprocess.Popen(
                    [sys.executable, "-m", "jobs.worker"], cwd=ROOT, env={**self.env, **env},
                    stdout=log, stderr=subprocess.STDOUT))
        self.running += started
        return started

    @staticmethod
    def _children(pid: int) -> set[int]:
        found: set[int] = set()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                found |= {int(x) for x in (task / "children").read_text().split()}
            except OSError:
                pass
        for child in list(found):
            found |= Workers._children(child)
        return found

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL to the worker and the RQ scheduler it forked, as when its container or
        cgroup is killed: no handler runs, the job is left mid-call, locks stay behind."""
        for pid in [process.pid, *self._children(process.pid)]:
            os.kill(pid, signal.SIGKILL)
        process.wait(10)
        self.running.remove(process)

    def stop(self, process: subprocess.Popen) -> None:
        """A clean stop (SIGTERM: RQ's warm shutdown)."""
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill(process)
            return
        self.running.remove(process)

    def check(self) -> None:
        for process in self.running:
            assert process.poll() is None, \
                f"worker {process.pid} exited ({process.returncode}):\n{self.tail()}"

    def tail(self, lines: int = 30) -> str:
        out = []
        for log in sorted(self.logs.glob("worker-*.log")):
            out.append(f"--- {log.name}\n" + "\n".join(
                log.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)

    def close(self) -> None:
        for process in list(self.running):
            self.stop(process)


@pytest.fixture
def workers(app, sim, tmp_path):
    pool = Workers(app, tmp_path, sim.url)
    yield pool
    pool.close()


# -- driving Orderdeck -----------------------------------------------------------------------

def _configure(app, **extra) -> None:
    """The test process (imports, returns, the sweeper) uses the same short timeouts."""
    app.config.update({"WALMART_CONNECT_TIMEOUT": 2.0, "WALMART_READ_TIMEOUT": READ_TIMEOUT,
                       "SYNC_BACKOFF_BASE": 0.2, "SYNC_BACKOFF_CAP": 2.0, **extra})


def _import_until_complete(app, store_id: int, passes: int = 60) -> int:
    """Import passes, as the schedule would run them, until one completes."""
    from webapp.services.orders.importer import ImportDeferred, import_store
    from webapp.walmart import WalmartError

    for n in range(1, passes + 1):
        with app.app_context():
            try:
                run = import_store(store_id)
            except (WalmartError, ImportDeferred):
                continue
            if run is not None and run.ok:
                return n
    pytest.fail(f"no complete import pass in {passes} tries")


def _import_returns_until_complete(app, store_id: int, passes: int = 60) -> int:
    from webapp.services.orders.importer import ImportDeferred
    from webapp.services.returns.importer import import_returns
    from webapp.walmart import WalmartError

    for n in range(1, passes + 1):
        with app.app_context():
            try:
                import_returns(store_id)
                return n
            except (WalmartError, ImportDeferred):
                continue
    pytest.fail(f"no complete returns pass in {passes} tries")


def _pending(app, where=None) -> list:
    from webapp.extensions import db
    from webapp.models import SyncTask

    with app.app_context():
        query = select(SyncTask).where(SyncTask.state == "pending")
        if where is not None:
            query = query.where(where)
        rows = db.session.scalars(query.order_by(SyncTask.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _wait_settled(app, workers: Workers, timeout: float, where=None, sweep_every=None) -> None:
    """Until no task (of `where`) is pending; `sweep_every` seconds the sweeper runs, as
    `rq cron` would (only where a test needs it)."""
    from jobs.sync import sweep

    deadline = time.monotonic() + timeout
    swept = time.monotonic()
    while True:
        pending = _pending(app, where)
        if not pending:
            return
        workers.check()
        if time.monotonic() > deadline:
            summary = "\n".join(f"task {t.id} {t.kind} {t.target}: attempts={t.attempts} "
                                f"next={t.next_attempt_at} lease={t.lease_until} "
                                f"error={t.last_error_message}" for t in pending[:15])
            pytest.fail(f"{len(pending)} task(s) still pending after {timeout:.0f}s:\n"
                        f"{summary}\n{workers.tail()}")
        if sweep_every is not None and time.monotonic() - swept >= sweep_every:
            with app.app_context():
                sweep()
            swept = time.monotonic()
        time.sleep(0.25)


def _ship(order_id: int, number: str, lines: dict[str, int]):
    from webapp.models.base import utcnow
    from webapp.services.shipping.ship import PackageInput, ship_order

    return ship_order(order_id, [PackageInput(number, METHOD, lines, CARRIER)], utcnow(),
                      by=None, actor="fault campaign", confirm_warnings=True)


def _halves(order) -> tuple[dict[str, int], dict[str, int]]:
    """The order's units split in two non-empty parts, by line."""
    units = [x.line_number for x in order.lines for _ in range(x.quantity)]
    first, second = Counter(units[:len(units) // 2]), Counter(units[len(units) // 2:])
    return dict(first), dict(second)


# -- what Walmart (the simulator) holds -------------------------------------------------------

def _applied(seller) -> Counter:
    """Calls Walmart applied (answered 200), per (endpoint, what it applied to): a tracking
    number for shipments, the purchase order for acknowledgements and cancellations, the RMA
    for refunds. A timeout after acting and a malformed answer were applied too, and the
    simulator logs them with 200."""
    applied: Counter = Counter()
    for call in seller.requests():
        if call["status"] != 200:
            continue
        endpoint = call["endpoint"]
        if endpoint == "shipping":
            body = json.loads(call["body"])
            for number in {s["trackingInfo"]["trackingNumber"]
                           for line in body["orderShipment"]["orderLines"]["orderLine"]
                           for s in line["orderLineStatuses"]["orderLineStatus"]}:
                applied[("shipping", number)] += 1
        elif endpoint in ("acknowledge", "cancel"):
            po = re.search(r"/v3/orders/(\d+)/", call["path"]).group(1)
            applied[(endpoint, po)] += 1
        elif endpoint == "return_refund":
            rma = re.search(r"/v3/returns/(\d+)/refund", call["path"]).group(1)
            applied[(endpoint, rma)] += 1
    return applied


def _calls(seller, endpoint: str, key: str) -> list[int]:
    """Statuses of every call to `endpoint` whose path names `key`."""
    return [c["status"] for c in seller.requests()
            if c["endpoint"] == endpoint and f"/{key}" in c["path"]]


def _line_status(ordered: int, shipped: int, canceled: int, acknowledged: bool) -> str:
    if canceled >= ordered:
        return "Cancelled"
    if shipped and shipped + canceled >= ordered:
        return "Shipped"
    if shipped:
        return "Partially shipped"
    return "Acknowledged" if acknowledged else "Created"


def _walmart_view(seller, pos) -> tuple[dict, dict]:
    """Per (PO, line): what Walmart holds; and per PO: whether a return is still open."""
    conn = seller.sim.conn
    refunded: Counter = Counter()
    open_return: set[str] = set()
    for row in conn.execute("SELECT doc FROM returns WHERE seller_id = ?", (seller.seller_id,)):
        for line in json.loads(row["doc"])["lines"]:
            refunded[(line["po"], str(line["poLine"]))] += line["refundedQty"]
            if line["refundedQty"] < line["qty"]:
                open_return.add(line["po"])
    view = {}
    for po in pos:
        state = control.order_state(conn, seller.seller_id, po)
        for line in state["orderLines"]["orderLine"]:
            buckets: Counter = Counter()
            tracking: Counter = Counter()
            for s in line["orderLineStatuses"]["orderLineStatus"]:
                qty = int(s["statusQuantity"]["amount"])
                status = "Shipped" if s["status"] == "Delivered" else s["status"]
                buckets[status] += qty
                if status == "Shipped":
                    tracking[s["trackingInfo"]["trackingNumber"]] += qty
            ordered = int(line["orderLineQuantity"]["amount"])
            key = (po, line["lineNumber"])
            view[key] = {
                "status": _line_status(ordered, buckets["Shipped"], buckets["Cancelled"],
                                       buckets["Created"] == 0),
                "ordered": ordered, "shipped": buckets["Shipped"],
                "canceled": buckets["Cancelled"], "refunded": refunded[key],
                "tracking": dict(tracking)}
    return view, {po: po in open_return for po in pos}


def _our_view(app, store_id: int) -> tuple[dict, dict]:
    """The same, as Orderdeck shows it: order lines, shipments' packages, returns; and per PO
    the order's status, whether it is in Error or still has work in flight."""
    from webapp.extensions import db
    from webapp.models import Order, ReturnLine, ShipmentLine, ShipmentPackage

    with app.app_context():
        tracking: dict[int, Counter] = {}
        for line_id, number, qty in db.session.execute(
                select(ShipmentLine.order_line_id, ShipmentPackage.tracking_number,
                       ShipmentLine.quantity).join(ShipmentPackage)):
            tracking.setdefault(line_id, Counter())[number] += qty
        returned: Counter = Counter()
        for line_id, qty in db.session.execute(
                select(ReturnLine.order_line_id, ReturnLine.refunded_qty)):
            returned[line_id] += qty
        view, orders = {}, {}
        for order in db.session.scalars(select(Order).where(Order.store_id == store_id)
                                        .order_by(Order.id)).unique():
            orders[order.purchase_order_id] = (order.status, order.in_flight,
                                               order.status_details or "")
            for line in order.lines:
                assert line.refunded_qty == returned[line.id], \
                    f"order line {order.purchase_order_id}/{line.line_number}: refunds disagree"
                view[(order.purchase_order_id, line.line_number)] = {
                    "status": _line_status(line.quantity, line.shipped_qty, line.canceled_qty,
                                           line.acknowledged),
                    "ordered": line.quantity, "shipped": line.shipped_qty,
                    "canceled": line.canceled_qty, "refunded": line.refunded_qty,
                    "tracking": dict(tracking.get(line.id, {}))}
        return view, orders


def _expected_status(lines: list[dict], return_open: bool) -> str:
    ordered = sum(x["ordered"] for x in lines)
    shipped = sum(x["shipped"] for x in lines)
    canceled = sum(x["canceled"] for x in lines)
    if canceled >= ordered:
        return "Canceled"
    if return_open:
        return "Return requested"
    if shipped and shipped + canceled >= ordered:
        return "Shipped"
    return "Partially Shipped" if shipped else "Open"


def _assert_agree(app, store_id: int, seller) -> dict:
    """Orderdeck and Walmart agree on every line of every order; no order in Error or still
    sending. Returns Walmart's view."""
    ours, orders = _our_view(app, store_id)
    theirs, returns_open = _walmart_view(seller, sorted(orders))
    differ = {key: (ours.get(key), theirs.get(key)) for key in set(ours) | set(theirs)
              if ours.get(key) != theirs.get(key)}
    assert not differ, f"{len(differ)} line(s) differ (ours, Walmart's): " + \
        "; ".join(f"{k}: {v}" for k, v in sorted(differ.items())[:10])
    for po, (status, in_flight, details) in orders.items():
        lines = [v for (p, _n), v in theirs.items() if p == po]
        assert (status, in_flight) == (_expected_status(lines, returns_open[po]), False), \
            f"order {po}: {status} ({details})"
    return theirs


# -- the tests -------------------------------------------------------------------------------

def test_every_update_reaches_walmart_exactly_once_under_a_fault_campaign(
        app, walmart_store, workers):
    """240 orders imported and acknowledged, 200 shipments (20 orders in two), 20
    cancellations (5 of them of partly shipped orders) and 20 refunds of returns, all while
    every Walmart call may fail: 20 % 5xx, 10 % 429, 5 % timeouts before or after Walmart acts,
    2 % malformed JSON. Two worker processes deliver. At the end each update reached Walmart
    exactly once and Orderdeck agrees with Walmart line by line."""
    from webapp.extensions import db
    from webapp.models import Order, Return, SyncTask
    from webapp.services.returns.refunding import refund_return
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.sync.actions import retry_tasks

    _configure(app)
    store_id, seller = walmart_store(orders=240, seed=84)
    conn = seller.sim.conn
    control.set_faults(conn, "*", **campaign_faults(), hang_seconds=HANG)
    workers.start(2)

    # 1. Import: passes that fail part-way are repeated, as the schedule does.
    _import_until_complete(app, store_id)
    with app.app_context():
        orders = db.session.scalars(select(Order).order_by(Order.id)).unique().all()
        assert len(orders) == 240 and not [o for o in orders if o.import_error]
        pos = [o.purchase_order_id for o in orders]
        plain = [o for o in orders if not o.intent_to_cancel]
        split = [o for o in plain if sum(x.quantity for x in o.lines) >= 2][:25]
        whole = [o for o in plain if o not in split][:155]
        cancel_only = ([o for o in orders if o.intent_to_cancel]
                       + [o for o in plain if o not in split and o not in whole])[:15]
        assert len(split) == 25 and len(whole) == 155 and len(cancel_only) == 15

        # 2. Shipments and cancellations, made while acknowledgements are still on their way.
        shipped: dict[str, str] = {}  # tracking number -> PO
        for n, order in enumerate(whole):
            shipped[f"1ZCAMPAIGN{n:06d}"] = order.purchase_order_id
            _ship(order.id, f"1ZCAMPAIGN{n:06d}",
                  {x.line_number: x.quantity for x in order.lines})
        for n, order in enumerate(split):
            first, second = _halves(order)
            shipped[f"1ZSPLIT{n:06d}A"] = order.purchase_order_id
            _ship(order.id, f"1ZSPLIT{n:06d}A", first)
            if n < 20:  # the rest follows in a second package
                shipped[f"1ZSPLIT{n:06d}B"] = order.purchase_order_id
                _ship(order.id, f"1ZSPLIT{n:06d}B", second)
        canceled = [o.purchase_order_id for o in split[20:] + cancel_only]
        for order in split[20:] + cancel_only:  # partly shipped ones: the rest is canceled
            cancel_order(order.id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="campaign")
        whole_pos = [o.purchase_order_id for o in whole]
    assert len(shipped) == 200 and len(canceled) == 20

    # 3. Refunds: the first 20 orders whose shipment reached Walmart are delivered and
    # returned there, the returns imported (under the same faults) and refunded, 5 in part.
    deadline = time.monotonic() + 90
    while True:
        with app.app_context():
            done = set(db.session.scalars(select(SyncTask.target).where(
                SyncTask.kind == "ship", SyncTask.state == "synced",
                SyncTask.target.in_(whole_pos))))
        if len(done) >= 20:
            break
        workers.check()
        assert time.monotonic() < deadline, f"only {len(done)} shipments reached Walmart"
        time.sleep(0.25)
    refunding = [po for po in whole_pos if po in done][:20]
    rmas = {}
    for n, po in enumerate(refunding):
        control.deliver(conn, seller.seller_id, po)
        rmas[po] = control.open_return(conn, seller.seller_id, po, reason="DAMAGED",
                                       seed=n)["rma"]
    _import_returns_until_complete(app, store_id)
    with app.app_context():
        for n, po in enumerate(refunding):
            ret = db.session.scalars(select(Return).where(Return.rma == rmas[po])).one()
            wanted = {x.number: x.quantity for x in ret.lines}
            if n % 4 == 0:
                wanted = {ret.lines[0].number: 1}
            refund_return(ret.id, wanted, by=None, actor="fault campaign")

    # 4. Every task delivers, through the faults. At these rates a task now and then fails 15
    # times running and gives up (Error, with a Retry button: about one campaign in three),
    # and a later update of its order may then be refused by Walmart (a shipment of an order
    # whose acknowledgement gave up: "not acknowledged"). The seller retries them (Retry
    # selected), which reads Walmart back before sending anything. Dozens of errors, or a
    # refusal of anything else, would mean updates are not retried as they should be.
    _wait_settled(app, workers, 120)
    with app.app_context():
        failed = db.session.scalars(select(SyncTask).where(SyncTask.state == "error")
                                    .order_by(SyncTask.id)).all()
        report = [(t.id, t.kind, t.target, t.last_error_message) for t in failed]
        gave_up = [t for t in failed if t.last_error_message.startswith("Gave up after ")]
        assert len(gave_up) <= 3, report
        for task in failed:  # never a refusal of its own (Walmart refuses a duplicate)
            assert task in gave_up or any(
                t.order_id == task.order_id and t.id < task.id for t in gave_up), report
        if failed:
            retry_tasks([t.id for t in failed], by=None)
    _wait_settled(app, workers, 60)
    control.clear_faults(conn)

    with app.app_context():
        tasks = Counter((t.kind, t.state) for t in db.session.scalars(select(SyncTask)))
    assert tasks == {("acknowledge", "synced"): 240, ("ship", "synced"): 200,
                     ("cancel", "synced"): 20, ("refund", "synced"): 20}, tasks
    assert _applied(seller) == Counter({**{("acknowledge", po): 1 for po in pos},
                                        **{("shipping", n): 1 for n in shipped},
                                        **{("cancel", po): 1 for po in canceled},
                                        **{("return_refund", r): 1 for r in rmas.values()}})
    theirs = _assert_agree(app, store_id, seller)
    for number, po in shipped.items():
        assert any(number in v["tracking"] for (p, _n), v in theirs.items() if p == po)
    assert sum(v["refunded"] for v in theirs.values()) >= 20
    # The faults did happen; and updates whose answer was lost after Walmart had applied them
    # (a timeout after acting, a malformed answer) were settled by reading the order back:
    # the last update of an order, applied, and then the order read.
    calls = seller.requests()
    statuses = Counter(c["status"] for c in calls)
    assert statuses[500] > 50 and statuses[429] > 20 and statuses[504] > 3, statuses
    last_action: dict[str, dict] = {}
    read_at: dict[str, int] = {}
    for c in calls:
        if c["endpoint"] in ("acknowledge", "shipping", "cancel"):
            last_action[re.search(r"/v3/orders/(\d+)/", c["path"]).group(1)] = c
        elif c["endpoint"] == "order":
            read_at[c["path"].rsplit("/", 1)[-1]] = c["id"]
    lost = [po for po, c in last_action.items()
            if c["status"] == 200 and read_at.get(po, 0) > c["id"]]
    assert lost, "no answer was lost after Walmart applied an update: nothing was read back"


def acknowledgement_campaign(app, walmart_store, workers, orders: int = 40,
                             window: float = 300.0, seed: int = 1) -> float | None:
    """The probe's campaign (issue 15): `orders` new orders imported and acknowledged while
    20 % of Walmart calls answer 500 before acting and 10 % act and then lose the answer (a
    timeout after acting), at the production backoff (2 s base, 10 minute cap). Two worker
    processes and the sweeper every minute, as in production. Returns the seconds from the
    import's start until nothing is pending (None if not within `window`); every order is
    then acknowledged at Walmart exactly once. Run 20 times by `bench/soak_faults.py`."""
    from webapp.extensions import db
    from webapp.models import SyncTask

    _configure(app, SYNC_BACKOFF_BASE=2.0, SYNC_BACKOFF_CAP=600.0)
    store_id, seller = walmart_store(orders=orders, seed=seed)
    control.set_faults(seller.sim.conn, "*", error_rate=0.20,
                       timeout_after_rate=0.10 / 0.80, hang_seconds=HANG)
    workers.start(2, ORDERDECK_SYNC_BACKOFF_BASE="2", ORDERDECK_SYNC_BACKOFF_CAP="600")
    start = time.monotonic()
    _import_until_complete(app, store_id)
    settled = None
    try:
        _wait_settled(app, workers, window - (time.monotonic() - start), sweep_every=60)
        settled = time.monotonic() - start
    except pytest.fail.Exception:
        return None
    finally:
        control.clear_faults(seller.sim.conn)
    with app.app_context():
        states = Counter(t.state for t in db.session.scalars(select(SyncTask)))
    assert states == {"synced": orders}, states
    acks = {po: n for (endpoint, po), n in _applied(seller).items() if endpoint == "acknowledge"}
    assert len(acks) == orders and set(acks.values()) == {1}, acks
    return settled


def test_a_worker_killed_mid_call_sends_nothing_twice(app, walmart_store, workers):
    """Both workers are SIGKILLed (with the RQ scheduler one of them ran) while Walmart stalls
    on their calls: a cancellation Walmart had already applied, and a shipment it had not
    received yet. A new worker delivers the rest, through a few more failures, while the
    leases keep everyone off those two tasks; once the leases pass, the sweeper hands them
    over, and they are read back first: the cancellation is never sent again, the shipment is
    sent once."""
    from jobs.sync import sweep
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.models.base import utcnow
    from webapp.services.stock.cancelling import cancel_order

    _configure(app)
    store_id, seller = walmart_store(orders=16, seed=85)
    conn = seller.sim.conn
    _import_until_complete(app, store_id)
    [acks] = workers.start(1)
    _wait_settled(app, workers, 60)
    workers.stop(acks)

    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                    .order_by(Order.id)).unique().all()[:12]
        stalled_cancel, stalled_ship = orders[0].purchase_order_id, orders[1].purchase_order_id
        stalled = [stalled_cancel, stalled_ship]
        cancel_order(orders[0].id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        shipped = {}
        for n, order in enumerate(orders[1:9]):
            shipped[f"1ZKILL{n:010d}"] = order.purchase_order_id
            _ship(order.id, f"1ZKILL{n:010d}", {x.line_number: x.quantity for x in order.lines})
        canceled = [stalled_cancel]
        for order in orders[9:12]:
            cancel_order(order.id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
            canceled.append(order.purchase_order_id)
    # Walmart applies the first cancellation and then stalls; it stalls before acting on the
    # first shipment. Workers with a long read timeout are inside those calls when killed.
    control.set_faults(conn, "cancel", next={"timeout_after": 1}, hang_seconds=8)
    control.set_faults(conn, "shipping", next={"timeout": 1}, hang_seconds=8)
    slow = workers.start(2, ORDERDECK_WALMART_READ_TIMEOUT="30")
    deadline = time.monotonic() + 30
    while not (_calls(seller, "cancel", stalled_cancel) == [200] and json.loads(conn.execute(
            "SELECT config FROM faults WHERE endpoint = 'shipping'").fetchone()["config"])
            ["next"]["timeout"] == 0):
        workers.check()
        assert time.monotonic() < deadline, "the stalled calls never reached the simulator"
        time.sleep(0.05)
    time.sleep(0.3)  # both requests are now in the simulator's hands
    for process in slow:
        workers.kill(process)
    with app.app_context():
        held = db.session.scalars(select(SyncTask).where(SyncTask.lease_until.is_not(None)))
        assert sorted(t.target for t in held) == sorted(stalled)

    # A new worker; the next two shipments and the first read-back fail once more, so their
    # retries wait in RQ's schedule — with no scheduler running any more (the dead one's lock
    # outlives it by a minute). The sweeper, every second here, as `rq cron` does every minute.
    control.set_faults(conn, "shipping", next={"error": 2})
    control.set_faults(conn, "order", next={"error": 1})
    workers.start(1)
    _wait_settled(app, workers, 60, SyncTask.target.not_in(stalled), sweep_every=1.0)
    assert {t.target for t in _pending(app)} == set(stalled)  # the leases hold them
    assert 200 not in _calls(seller, "shipping", stalled_ship)  # nobody sent it meanwhile
    reads_before = len([c for c in seller.requests() if c["endpoint"] == "order"])
    # Time passes beyond the leases (minutes long); the sweeper finds them expired.
    with app.app_context():
        db.session.execute(update(SyncTask).where(SyncTask.lease_until.is_not(None))
                           .values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert sweep()["expired"] == 2
    _wait_settled(app, workers, 60, sweep_every=1.0)

    # Both were read back first: the cancellation was found applied and never sent again.
    reads = [c["path"] for c in seller.requests() if c["endpoint"] == "order"][reads_before:]
    assert {p.rsplit("/", 1)[-1] for p in reads} == set(stalled)
    assert _calls(seller, "cancel", stalled_cancel) == [200]
    applied = _applied(seller)
    assert {k: v for k, v in applied.items() if k[0] != "acknowledge"} == {
        **{("shipping", n): 1 for n in shipped}, **{("cancel", po): 1 for po in canceled}}
    with app.app_context():
        assert Counter(db.session.scalars(select(SyncTask.state))) == {"synced": 16 + 12}
    _assert_agree(app, store_id, seller)


def test_a_flushed_redis_loses_no_update(app, walmart_store, workers, redis_url):
    """Redis forgets every job (FLUSHDB) while shipments and cancellations are queued, in
    backoff or in flight. Nothing moves them any more; the sweeper re-enqueues them from the
    database, and each reaches Walmart exactly once."""
    from rq.job import Job

    from jobs.sync import sweep
    from webapp.extensions import db, redis_connection
    from webapp.models import Order, SyncTask
    from webapp.services.stock.cancelling import cancel_order

    _configure(app)
    store_id, seller = walmart_store(orders=40, seed=86)
    conn = seller.sim.conn
    _import_until_complete(app, store_id)
    [acks] = workers.start(1)
    _wait_settled(app, workers, 60)
    workers.stop(acks)

    control.set_faults(conn, "*", error_rate=0.2, throttle_rate=0.1, timeout_after_rate=0.05,
                       hang_seconds=HANG)
    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                    .order_by(Order.id)).unique().all()[:36]
        shipped = {}
        for n, order in enumerate(orders[:30]):
            number = f"1ZFLUSH{n:09d}"
            _ship(order.id, number, {x.line_number: x.quantity for x in order.lines})
            shipped[number] = order.purchase_order_id
        canceled = []
        for order in orders[30:]:
            cancel_order(order.id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
            canceled.append(order.purchase_order_id)
    workers.start(1)
    deadline = time.monotonic() + 30
    while True:  # let the worker deliver a few, then Redis forgets everything
        with app.app_context():
            done = db.session.scalar(select(func.count()).select_from(SyncTask).where(
                SyncTask.kind != "acknowledge", SyncTask.state == "synced"))
        if done >= 5:
            break
        assert time.monotonic() < deadline, workers.tail()
        time.sleep(0.05)
    Redis.from_url(redis_url).flushdb()
    time.sleep(2.0)  # longer than a call in flight and a backoff step

    def forgotten():
        """Pending tasks whose job Redis no longer has: (id, claims, attempts) of each."""
        with app.app_context():
            connection = redis_connection()
            return {(t.id, t.claims, t.attempts) for t in _pending(app)
                    if not Job.exists(t.job_id, connection=connection)}
    lost = forgotten()
    assert len(lost) >= 10, "the flush lost (almost) nothing: the test proves nothing"
    time.sleep(2 * HANG)
    assert lost <= forgotten()  # nothing runs them any more: they wait for the sweeper
    with app.app_context():
        assert sweep()["enqueued"] >= len(lost)
    _wait_settled(app, workers, 90, sweep_every=1.0)
    control.clear_faults(conn)

    applied = _applied(seller)
    assert {k: v for k, v in applied.items() if k[0] != "acknowledge"} == {
        **{("shipping", n): 1 for n in shipped}, **{("cancel", po): 1 for po in canceled}}
    with app.app_context():
        assert Counter(db.session.scalars(select(SyncTask.state))) == {"synced": 40 + 36}
    _assert_agree(app, store_id, seller)


def test_while_walmart_is_down_updates_wait_and_the_pages_stay_usable(
        app, walmart_store, workers, signed_in, client):
    """Walmart's gateway answers 503 to every call for a while. Shipments and a cancellation
    stay pending — retried with backoff, never Error — while the Orders page and the order
    page answer at once and say what is waiting and why. When Walmart is back, each reaches it
    exactly once."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask
    from webapp.services.stock.cancelling import cancel_order
    from webapp.services.sync.engine import MAX_ATTEMPTS

    _configure(app)
    store_id, seller = walmart_store(orders=10, seed=87)
    conn = seller.sim.conn
    _import_until_complete(app, store_id)
    backoff = {"ORDERDECK_SYNC_BACKOFF_BASE": "0.5", "ORDERDECK_SYNC_BACKOFF_CAP": "3"}
    workers.start(1, **backoff)
    _wait_settled(app, workers, 60)

    control.set_faults(conn, "*", down=True)
    with app.app_context():
        orders = db.session.scalars(select(Order).where(Order.intent_to_cancel.is_(False))
                                    .order_by(Order.id)).unique().all()[:6]
        shipped = {}
        for n, order in enumerate(orders[:5]):
            number = f"1ZDOWN{n:010d}"
            _ship(order.id, number, {x.line_number: x.quantity for x in order.lines})
            shipped[number] = order.purchase_order_id
        cancel_order(orders[5].id, "SELLER_CANCEL_OUT_OF_STOCK", by=None, actor="test")
        canceled = orders[5].purchase_order_id
        watched = orders[0]
        watched_id, watched_po, watched_number = watched.id, watched.purchase_order_id, \
            watched.number
    signed_in("operator")
    outage_ends = time.monotonic() + 8
    while time.monotonic() < outage_ends:
        started = time.monotonic()
        listing = client.get("/orders/")
        home = client.get("/")
        page = client.get(f"/orders/{watched_id}")
        took = time.monotonic() - started
        assert listing.status_code == page.status_code == home.status_code == 200
        assert took < 3, f"the pages took {took:.1f}s while Walmart was down"
        pending = _pending(app)
        assert len(pending) == 6 and not [t for t in pending if t.attempts >= MAX_ATTEMPTS]
        workers.check()
        time.sleep(0.5)
    with app.app_context():
        tasks = db.session.scalars(select(SyncTask).where(SyncTask.kind != "acknowledge")).all()
        assert {t.state for t in tasks} == {"pending"}
        # Retried, with backoff: a few attempts each over the outage, not a tight loop.
        assert all(2 <= t.attempts <= 12 for t in tasks), [t.attempts for t in tasks]
    # The last look, at the end of the outage: both pages say what waits, and why.
    assert watched_number in listing.text and watched_po in page.text
    for text in (listing.text, page.text):
        assert "Sending shipment to Walmart" in text, text
        assert "retrying after" in text and "Walmart answered 503" in text, text
    down_calls = [c for c in seller.requests() if c["status"] == 503]
    assert len(down_calls) >= 12

    control.clear_faults(conn)
    _wait_settled(app, workers, 60)
    applied = _applied(seller)
    assert {k: v for k, v in applied.items() if k[0] != "acknowledge"} == {
        **{("shipping", n): 1 for n in shipped}, ("cancel", canceled): 1}
    with app.app_context():
        assert {t.state for t in db.session.scalars(select(SyncTask))} == {"synced"}
    _assert_agree(app, store_id, seller)
    page = client.get(f"/orders/{watched_id}")
    assert page.status_code == 200 and "retrying" not in page.text


def test_a_shipment_waiting_behind_one_in_backoff_does_not_stall_it(app, walmart_store,
                                                                      worker):
    """Two shipments of one order; the first fails once and waits out its backoff. The second
    waits for it (Walmart gets them in order) and asks for it to be run first — which must
    not run its job before it is due (the claim would skip it, and nothing but the sweeper
    would ever run it again). Both reach Walmart without the sweeper."""
    from webapp.extensions import db
    from webapp.models import Order, SyncTask

    _configure(app, SYNC_BACKOFF_BASE=1.0)
    store_id, seller = walmart_store(orders=10, seed=88)
    _import_until_complete(app, store_id)
    worker()
    with app.app_context():
        order = next(o for o in db.session.scalars(select(Order).order_by(Order.id)).unique()
                     if sum(x.quantity for x in o.lines) >= 2 and not o.intent_to_cancel)
        first, second = _halves(order)
        _ship(order.id, "1ZORDER0000000001", first)
        _ship(order.id, "1ZORDER0000000002", second)
    control.set_faults(seller.sim.conn, "shipping", next={"error": 1})
    deadline = time.monotonic() + 15
    while _pending(app):  # burst workers run what is due; no sweeper
        assert time.monotonic() < deadline, [(t.id, t.attempts, t.claims, t.next_attempt_at)
                                             for t in _pending(app)]
        worker()
        time.sleep(0.2)
    assert {k: v for k, v in _applied(seller).items() if k[0] == "shipping"} == {
        ("shipping", "1ZORDER0000000001"): 1, ("shipping", "1ZORDER0000000002"): 1}
    with app.app_context():
        assert {t.state for t in db.session.scalars(select(SyncTask))} == {"synced"}


def test_a_savepoint_write_survives_another_process_committing_first(app, walmart_store):
    """The import stores each order in a savepoint while workers commit beside it. Another
    process commits between our savepoint's read and its write: our write still goes through,
    and so does theirs. (On SQLite a transaction opened by a savepoint must hold the write lock
    from the start, so the other process waits for our commit: one that read first is refused
    at once, "database is locked", whatever the busy timeout — which crashed import passes
    under the campaign. PostgreSQL lets the other commit at once.)"""
    import sqlite3
    import threading

    from webapp.extensions import db
    from webapp.models import Store

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    sqlite = uri.startswith("sqlite:///")
    store_id, _seller = walmart_store()
    done = []

    def other_process_writes():
        if sqlite:
            other = sqlite3.connect(uri.removeprefix("sqlite:///"), timeout=15)
        else:
            import psycopg
            other = psycopg.connect(uri.replace("postgresql+psycopg", "postgresql"))
        other.execute("UPDATE stores SET name = 'renamed elsewhere' WHERE id = "
                      f"{int(store_id)}")
        other.commit()
        other.close()
        done.append(time.monotonic())

    with app.app_context():
        with db.session.begin_nested():
            db.session.get(Store, store_id)  # read first, as an upsert does
            writer = threading.Thread(target=other_process_writes)
            writer.start()
            writer.join(0.5)  # SQLite: it waits for our lock; PostgreSQL: it commits now
            db.session.execute(update(Store).where(Store.id == store_id)
                               .values(import_enabled=False))
        db.session.commit()
        ours = time.monotonic()
        writer.join(15)
        assert done
        if sqlite:
            assert done[0] > ours  # it went second, once we had committed
        db.session.expire_all()
        store = db.session.get(Store, store_id)
        assert store.name == "renamed elsewhere" and store.import_enabled is False
