"""Walmart's Notifications API (walmart-api.md §12; docs/walmart.md "Order notifications"),
part of WalmartClient (client.py holds the transport: `_call`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from webapp.walmart.errors import MalformedResponse

ORDER_UPDATES = "ORDER_UPDATES"
EVENT_VERSION = "V1"
RESOURCE = "ORDER"
AUTH_HEADER = "Authorization"  # the header Walmart is asked to send the password in


@dataclass(frozen=True)
class Subscription:
    """One subscription as Walmart answers it (never its password)."""
    subscription_id: str
    event_type: str
    status: str
    event_url: str


def subscription_record(event_url: str, user_name: str, password: str,
                        status: str = "ACTIVE") -> dict:
    """An ORDER_UPDATES subscription, its notifications authenticated with BASIC_AUTH."""
    return {"eventType": ORDER_UPDATES, "eventVersion": EVENT_VERSION, "resourceName": RESOURCE,
            "eventUrl": event_url, "status": status,
            "authDetails": {"authMethod": "BASIC_AUTH", "userName": user_name,
                            "password": password, "authHeaderName": AUTH_HEADER}}


def _records(body: Any) -> list[dict]:
    """Subscriptions from any of the shapes Walmart's models have had: {"event": [...]},
    {"events": [...]}, {"events": [{"event": [...]}]}."""
    if not isinstance(body, dict):
        raise MalformedResponse("Walmart's subscriptions answer is not an object")
    found = body.get("events", body.get("event")) or []
    if not isinstance(found, list):
        raise MalformedResponse("Walmart's subscriptions answer holds no list")
    out: list[dict] = []
    for item in found:
        if isinstance(item, dict) and isinstance(item.get("event"), list):
            out.extend(x for x in item["event"] if isinstance(x, dict))
        elif isinstance(item, dict):
            out.append(item)
    return out


def _subscription(record: dict) -> Subscription:
    sid = record.get("subscriptionId")
    if not isinstance(sid, str) or not sid:
        raise MalformedResponse("Walmart's subscription lacks subscriptionId",
                                field="subscriptionId")
    return Subscription(sid, str(record.get("eventType") or ""),
                        str(record.get("status") or ""), str(record.get("eventUrl") or ""))


class Notifications:
    """/v3/webhooks: subscriptions (create, list, update, delete) and the test call."""

    def create_subscription(self, record: dict) -> Subscription:
        body = self._call("POST", "/v3/webhooks/subscriptions", json_body={"events": [record]})
        records = _records(body)
        if not records:
            raise MalformedResponse("Walmart answered the subscription with none")
        return _subscription(records[0])

    def subscriptions(self, **filters: str) -> list[Subscription]:
        body = self._call("GET", "/v3/webhooks/subscriptions", params=filters or None)
        return [_subscription(record) for record in _records(body)]

    def update_subscription(self, subscription_id: str, changes: dict) -> Subscription:
        path = f"/v3/webhooks/subscriptions/{quote(subscription_id, safe='')}"
        records = _records(self._call("PATCH", path, json_body=changes))
        if not records:
            raise MalformedResponse("Walmart answered the update with no subscription")
        return _subscription(records[0])

    def delete_subscription(self, subscription_id: str) -> None:
        self._call("DELETE", f"/v3/webhooks/subscriptions/{quote(subscription_id, safe='')}")

    def test_notification(self, record: dict) -> str:
        """Walmart POSTs a test event to the record's eventUrl now; its confirmation."""
        test = {k: v for k, v in record.items() if k != "status"}
        body = self._call("POST", "/v3/webhooks/test", json_body=test)
        return str(body.get("message") or "") if isinstance(body, dict) else ""
