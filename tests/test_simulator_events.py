"""The simulator's Notifications API (walmart-api.md §12), its order events and their faults,
spoken to over HTTP as a raw client would (no Orderdeck code), with a real subscriber."""

from __future__ import annotations

import base64
import uuid

import pytest
import requests

from simulator import control
from tests.factories import make_walmart_order
from tests.receivers import EventSink, wait_for


class Api:
    """Walmart's headers and a token for one seller, over plain requests."""

    def __init__(self, sim, seller) -> None:
        self.base = sim.url
        token = requests.post(f"{sim.url}/v3/token", auth=(seller.client_id,
                                                           seller.client_secret),
                              data={"grant_type": "client_credentials"},
                              headers=self.headers(), timeout=10).json()["access_token"]
        self.token = token

    @staticmethod
    def headers(**extra) -> dict:
        return {"WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "WM_SVC.NAME": "Walmart Marketplace",
                "Accept": "application/json", **extra}

    def call(self, method: str, path: str, body=None, **params) -> requests.Response:
        headers = self.headers(**{"WM_SEC.ACCESS_TOKEN": self.token})
        if body is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(method, self.base + path, json=body, params=params or None,
                                headers=headers, timeout=30)


def record(url: str, status: str = "ACTIVE", event_type: str = "ORDER_UPDATES",
           password: str = "s3cret-pass") -> dict:
    return {"eventType": event_type, "eventVersion": "V1", "resourceName": "ORDER",
            "eventUrl": url, "status": status,
            "authDetails": {"authMethod": "BASIC_AUTH", "userName": "orderdeck",
                            "password": password, "authHeaderName": "Authorization"}}


@pytest.fixture
def sink():
    receiver = EventSink()
    yield receiver
    receiver.close()


@pytest.fixture
def subscribed(sim, sink):
    """A fresh seller with an ACTIVE ORDER_UPDATES subscription to the sink: (seller, api)."""
    seller = sim.seller()
    api = Api(sim, seller)
    response = api.call("POST", "/v3/webhooks/subscriptions", {"events": [record(sink.url)]})
    assert response.status_code == 200, response.text
    return seller, api


def _sub_events(sink: EventSink, po: str) -> list[str]:
    return [b["payload"]["subEventType"] for b in sink.bodies()
            if b["payload"]["order"]["purchaseOrderId"] == po]


def test_subscriptions_are_created_listed_paused_and_deleted(sim, sink):
    """Create answers the subscription (password masked), the list shows it, PATCH pauses it
    (INACTIVE), DELETE removes it for good (404 afterwards)."""
    seller = sim.seller()
    api = Api(sim, seller)
    types = api.call("GET", "/v3/webhooks/eventTypes").json()["eventTypes"]
    assert {"eventType": "ORDER_UPDATES", "eventVersion": "V1", "resourceName": "ORDER"}.items() \
        <= types[0].items()
    made = api.call("POST", "/v3/webhooks/subscriptions", {"events": [record(sink.url)]})
    assert made.status_code == 200
    subscription = made.json()["event"][0]
    assert subscription["status"] == "ACTIVE" and subscription["eventUrl"] == sink.url
    assert subscription["authDetails"]["password"] == "********"
    sid = subscription["subscriptionId"]
    listed = api.call("GET", "/v3/webhooks/subscriptions").json()["events"]
    assert [s["subscriptionId"] for s in listed] == [sid]
    paused = api.call("PATCH", f"/v3/webhooks/subscriptions/{sid}", {"status": "INACTIVE"})
    assert paused.json()["event"][0]["status"] == "INACTIVE"
    assert api.call("GET", "/v3/webhooks/subscriptions", status="ACTIVE").json()["events"] == []
    gone = api.call("DELETE", f"/v3/webhooks/subscriptions/{sid}")
    assert gone.json()["subscriptionId"] == sid
    assert api.call("DELETE", f"/v3/webhooks/subscriptions/{sid}").status_code == 404
    assert api.call("GET", "/v3/webhooks/subscriptions").json()["events"] == []


@pytest.mark.parametrize("change, field", [
    ({"eventType": "ORDER_SHIPPED"}, "eventType"),
    ({"eventUrl": "ftp://example.com/x"}, "eventUrl"),
    ({"status": "ON"}, "status"),
    ({"authDetails": {"authMethod": "HMAC", "clientSecret": "x",
                      "authHeaderName": "X-Sig"}}, "authDetails.authMethod"),
    ({"authDetails": {"authMethod": "BASIC_AUTH", "userName": "u",
                      "authHeaderName": "Authorization"}}, "authDetails.password"),
])
def test_a_subscription_walmart_would_not_take_is_refused(sim, change, field):
    """Unknown events, URLs that are not http(s), a status other than ACTIVE/INACTIVE and
    auth the simulator cannot play are refused with 400 naming the field; nothing is made."""
    seller = sim.seller()
    api = Api(sim, seller)
    response = api.call("POST", "/v3/webhooks/subscriptions",
                        {"events": [{**record("http://127.0.0.1:9/x"), **change}]})
    assert response.status_code == 400
    assert response.json()["errors"]["error"][0]["field"] == field
    assert control.subscriptions(sim.conn, seller.seller_id) == []


def test_the_notifications_api_needs_a_token(sim):
    """Without WM_SEC.ACCESS_TOKEN the Notifications API answers 401, like every call."""
    response = requests.get(f"{sim.url}/v3/webhooks/subscriptions", headers=Api.headers(),
                            timeout=10)
    assert response.status_code == 401


def test_the_test_call_posts_to_the_event_url_with_the_basic_auth_header(sim, sink):
    """POST /v3/webhooks/test sends a test event now, with authHeaderName = Base64
    userName:password, and confirms the subscriber's 200; any other answer is a 400."""
    api = Api(sim, sim.seller())
    body = {k: v for k, v in record(sink.url).items() if k != "status"}
    response = api.call("POST", "/v3/webhooks/test", body)
    assert response.status_code == 200 and "message" in response.json()
    headers, event = sink.received[0]
    assert base64.b64decode(headers["Authorization"]) == b"orderdeck:s3cret-pass"
    assert event["source"]["eventType"] == "ORDER_UPDATES" and event["source"]["eventId"]
    sink.status = 401
    refused = api.call("POST", "/v3/webhooks/test", body)
    assert refused.status_code == 400 and "401" in refused.text


def test_order_events_reach_active_subscribers_only(sim, subscribed, sink):
    """A new order, a buyer's request to cancel, Walmart's auto-cancel and a fraud cancel each
    send ORDER_UPDATES with their subEventType, the purchase order, an eventId and the
    password; an INACTIVE subscription of another seller hears nothing."""
    seller, _api = subscribed
    quiet = sim.seller()
    quiet_api = Api(sim, quiet)
    other = EventSink()
    try:
        quiet_api.call("POST", "/v3/webhooks/subscriptions",
                       {"events": [record(other.url, status="INACTIVE")]})
        make_walmart_order(quiet, (1,))
        po = make_walmart_order(seller, (1, 2))
        assert wait_for(lambda: _sub_events(sink, po) == ["PO_CREATED"])
        control.intent_to_cancel(sim.conn, seller.seller_id, po, "2")
        assert wait_for(lambda: _sub_events(sink, po) == ["PO_CREATED", "INTENT_TO_CANCEL"])
        fraud = make_walmart_order(seller, (1,))
        control.fraud_cancel(sim.conn, seller.seller_id, fraud)
        # Drawn up back to back, the two may arrive either way round: each of the simulator's
        # two server processes has a dispatcher, and Walmart promises no order either (§12).
        assert wait_for(lambda: sorted(_sub_events(sink, fraud)) == ["FRAUD_CANCEL",
                                                                      "PO_CREATED"])
        late = make_walmart_order(seller, (1,))
        control.advance_clock(sim.conn, 24 * 8)  # past ship-by + 4 days
        control.advance_clock(sim.conn, -24 * 8)
        assert wait_for(lambda: "PO_LINE_AUTOCANCELLED" in _sub_events(sink, late))
        first = next(b for h, b in sink.received
                     if b["payload"]["order"]["purchaseOrderId"] == po)
        assert first["source"]["eventType"] == "ORDER_UPDATES"
        assert first["payload"]["order"]["orderLines"][1]["quantity"]["measurementValue"] == "2"
        ids = [b["source"]["eventId"] for b in sink.bodies()]
        assert len(ids) == len(set(ids))  # every event its own id
        assert all(base64.b64decode(h["Authorization"]) == b"orderdeck:s3cret-pass"
                   for h, _b in sink.received)
        assert other.received == []
    finally:
        other.close()


def test_a_legacy_subscription_gets_the_flat_payload(sim, sink):
    """A PO_CREATED subscription (deprecated) hears new orders with the old flat payload."""
    seller = sim.seller()
    Api(sim, seller).call("POST", "/v3/webhooks/subscriptions",
                          {"events": [record(sink.url, event_type="PO_CREATED")]})
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: sink.bodies())
    event = sink.bodies()[0]
    assert event["source"]["eventType"] == "PO_CREATED"
    assert event["payload"]["purchaseOrderId"] == po and "subEventType" not in event["payload"]


# -- faults -------------------------------------------------------------------------------

def _deliveries(sim, seller) -> list[dict]:
    return control.deliveries(sim.conn, seller.seller_id)


def test_a_lost_event_is_never_sent(sim, subscribed, sink):
    """`lost`: the notification is drawn up but never sent; the next one goes through."""
    seller, _api = subscribed
    control.set_faults(sim.conn, "events", next={"lost": 1})
    lost = make_walmart_order(seller, (1,))
    sent = make_walmart_order(seller, (1,))
    assert wait_for(lambda: _sub_events(sink, sent))
    assert _sub_events(sink, lost) == []
    # The sink has the body before the simulator records the 200 it answered: wait for both.
    assert wait_for(lambda: [d["state"] for d in _deliveries(sim, seller)]
                    == ["lost", "delivered"])


def test_a_duplicated_event_is_sent_twice_with_one_event_id(sim, subscribed, sink):
    """`duplicate`: the same notification, with the same eventId, arrives twice."""
    seller, _api = subscribed
    control.set_faults(sim.conn, "events", next={"duplicate": 1})
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: len(_sub_events(sink, po)) == 2)
    assert len({b["source"]["eventId"] for b in sink.bodies()}) == 1


def test_delayed_and_reordered_events_arrive_after_later_ones(sim, subscribed, sink):
    """`delay` and `reorder` hold a notification: events made after it arrive first (out of
    order), and it still arrives."""
    seller, _api = subscribed
    for kind in ("delay", "reorder"):
        sink.received.clear()
        control.set_faults(sim.conn, "events", next={kind: 1}, delay_seconds=3,
                           reorder_seconds=3)
        held = make_walmart_order(seller, (1,))
        control.intent_to_cancel(sim.conn, seller.seller_id, held)
        assert wait_for(lambda held=held: len(_sub_events(sink, held)) == 2), kind
        assert _sub_events(sink, held) == ["INTENT_TO_CANCEL", "PO_CREATED"], kind


def test_a_wrong_password_is_sent_on_every_attempt(sim, subscribed, sink):
    """`wrong_password`: the notification carries a password the subscriber never set."""
    seller, _api = subscribed
    control.set_faults(sim.conn, "events", next={"wrong_password": 1})
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: _sub_events(sink, po))
    headers, _body = sink.received[0]
    assert base64.b64decode(headers["Authorization"]) == b"orderdeck:not-the-password"


def test_an_event_not_answered_200_is_sent_again(sim, subscribed, sink):
    """A subscriber answering anything but 200 gets the notification again, later."""
    seller, _api = subscribed
    sink.status = 503
    po = make_walmart_order(seller, (1,))
    assert wait_for(lambda: (_deliveries(sim, seller) or [{}])[0].get("attempts", 0) >= 1)
    sink.status = 200
    assert wait_for(lambda: _sub_events(sink, po), timeout=30)
    delivery = _deliveries(sim, seller)[0]
    assert delivery["state"] == "delivered" and delivery["attempts"] >= 2


def test_event_faults_are_set_like_the_others(sim):
    """`faults events --lost-rate … --next duplicate=1` is accepted; an unknown kind is not."""
    from simulator.__main__ import main

    assert main(["--db", str(sim.db), "faults", "events", "--lost-rate", "0.1",
                 "--next", "duplicate=1"]) == 0
    config = control.set_faults(sim.conn, "events", lost_rate=0.1, next={"duplicate": 1})
    assert config["next"] == {"duplicate": 1}
    with pytest.raises(ValueError):
        control.set_faults(sim.conn, "events", next={"vanish": 1})
