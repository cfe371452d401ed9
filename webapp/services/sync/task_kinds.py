"""One definition per kind of sync task: what it sends, how it is read back and found already
applied, what success, an error, a Retry or "Fixed in Seller Center" change locally, and its
words (while in flight, what it sent, the refusals only it meets).

The engine (sending), actions (what people do), explain (words) and the order's status ask the
kind's definition (`kind_of(task)`) instead of branching on the kind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Refund, Return, Store, SyncTask, TaskKind, TaskState
from webapp.models.base import utcnow
from webapp.services.orders.storing import upsert
from webapp.services.reconcile import findings as reconcile_findings
from webapp.services.returns import status as return_status
from webapp.services.returns.linking import link_order
from webapp.services.stock import levels as stock_levels
from webapp.services.stock import ship_nodes
from webapp.services.stock.cancelling import release_stock
from webapp.walmart import WalmartClient, payloads
from webapp.walmart.enums import cancellation_label, carrier_label
from webapp.walmart.schema import PurchaseOrder

# An explanation of a refusal only this kind meets: (pattern, title, meaning, fix). The
# pattern is searched in "kind | code | field | message" of the task's last error (explain.py).
KindRule = tuple[str, str, str, str]


class TaskKindDef(ABC):
    """What a kind of task is. The abstract methods and the attributes without a default are
    required; the rest have the explicit default written here."""

    kind: ClassVar[TaskKind]
    endpoint: ClassVar[str]  # the rate-limit bucket of the send
    # The rate-limit bucket of the read-back; None: never read back (the send is idempotent).
    read_endpoint: ClassVar[str | None]
    # Why a read-back settled it: "Synced by read-back: <note>." (required when it reads back).
    read_back_note: ClassVar[str] = ""
    # Some data errors (400) mean "already done": read back before calling them an error.
    recheck_on_data_error: ClassVar[bool] = False
    # Earlier tasks of the same target queue before it per ship node (not per target only).
    queued_per_ship_node: ClassVar[bool] = False
    in_flight_text: ClassVar[str]  # the order's Status details while it is on its way
    explanations: ClassVar[tuple[KindRule, ...]] = ()  # checked before the general rules

    @abstractmethod
    def send(self, client: WalmartClient, task: SyncTask) -> Any:
        """Call Walmart once; the answer goes to on_success."""

    def read_back(self, client: WalmartClient, task: SyncTask) -> Any:
        """Walmart's current view of the target, for applied(). Not a stub: a kind with
        `read_endpoint = None` (stock pushes, which set an absolute quantity) is never read
        back by the engine, so reaching this is a bug."""
        raise NotImplementedError(f"a {self.kind} task is never read back")

    @abstractmethod
    def applied(self, task: SyncTask, current: Any) -> bool:
        """Whether Walmart's view (a read-back) already shows what the task sends."""

    @abstractmethod
    def on_success(self, task: SyncTask, result: Any) -> None:
        """What Walmart's answer (or read-back) changes locally (the engine commits)."""

    def refusal(self, task: SyncTask, current: Any) -> str | None:
        """Why Walmart refused, found in a read-back after a data error (None: not known)."""
        return None

    def on_error(self, task: SyncTask) -> None:
        """What the task entering Error changes locally, besides its order's status."""
        return None  # nothing, by default

    def on_reopened(self, task: SyncTask) -> None:
        """What a Retry (back to pending) changes locally, besides its order's status."""
        return None  # nothing, by default

    def on_resolved(self, task: SyncTask) -> None:
        """What "Fixed in Seller Center" changes locally, besides its order's status."""
        return None  # nothing, by default

    @abstractmethod
    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        """What the task sends, one line per item, in words."""

    def target_text(self, task: SyncTask) -> str:
        """What a task without an order is about, in words."""
        return task.target


def _quantity(entry: dict) -> str:
    qty = entry.get("statusQuantity") or entry.get("quantity") or {}
    return str(qty.get("amount") or qty.get("measurementValue") or "?")


class _OrderKind(TaskKindDef):
    """A change to a purchase order: read back by reading the order; success stores Walmart's
    view of it."""

    read_endpoint = "order"
    recheck_on_data_error = True

    def read_back(self, client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.get_order(task.target)

    def on_success(self, task: SyncTask, order: PurchaseOrder) -> None:
        upsert(db.session.get(Store, task.store_id), order)


class Acknowledge(_OrderKind):
    """POST /v3/orders/{po}/acknowledge — the whole order, no body."""

    kind = TaskKind.ACKNOWLEDGE
    endpoint = "acknowledge"
    # Walmart refuses to acknowledge once any quantity moved on (e.g. the buyer cancelled a
    # line): when nothing is left in Created, that refusal means there is nothing to do.
    read_back_note = "nothing was left to acknowledge at Walmart"
    in_flight_text = "Acknowledging with Walmart…"

    def send(self, client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.acknowledge(task.target)

    def applied(self, task: SyncTask, order: PurchaseOrder) -> bool:
        """Nothing left in Created: acknowledged (or cancelled at Walmart meanwhile)."""
        return all(line.quantity_in("Created") == 0 for line in order.lines)

    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        return [f"Acknowledge purchase order {task.target} (every line)"]


class Ship(_OrderKind):
    """POST /v3/orders/{po}/shipping with the stored body; never re-sent unread."""

    kind = TaskKind.SHIP
    endpoint = "shipping"
    # Shipping is not idempotent: Walmart refuses (400) lines already shipped. When they are
    # shipped with this task's tracking numbers, the refusal means it is done.
    read_back_note = "Walmart already showed these lines shipped with this tracking number"
    in_flight_text = "Sending shipment to Walmart…"
    explanations = (
        (r"Walmart cancelled line",
         "Walmart cancelled these lines before the shipment reached it",
         "The buyer cancelled them, or Walmart did automatically (not shipped within 4 days "
         "of the Ship By date). Walmart takes no shipment for cancelled lines, and does not "
         "charge the buyer for them.",
         "If the parcel has not left, keep it. If it has, contact the buyer or Walmart "
         "Partner Support through Seller Center; then choose Fixed in Seller Center."),
        (r"in SHIPPED status|already shipped|once marked as shipped",
         "This line was already shipped at Walmart",
         "Walmart does not accept a second shipment for units it already has as shipped.",
         "If Seller Center shows the right tracking number, choose Fixed in Seller Center. "
         "To change a tracking number, use Correct tracking within 4 hours of shipping."),
    )

    def send(self, client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.ship(task.target, task.payload)

    def applied(self, task: SyncTask, order: PurchaseOrder) -> bool:
        """Every (line, tracking number) of the body is at Walmart with its quantity."""
        for entry in task.payload["orderShipment"]["orderLines"]["orderLine"]:
            line = order.line(entry["lineNumber"])
            if line is None:
                return False
            for status in entry["orderLineStatuses"]["orderLineStatus"]:
                number = status["trackingInfo"]["trackingNumber"]
                there = sum(s.quantity for s in line.statuses
                            if s.tracking and s.tracking.number == number
                            and s.status in ("Shipped", "Delivered"))
                if there < int(status["statusQuantity"]["amount"]):
                    return False
        return True

    def refusal(self, task: SyncTask, order: PurchaseOrder) -> str | None:
        """Why Walmart refused, when it is because it cancelled lines of the shipment (the
        buyer, or its automatic cancellation) before the shipment reached it."""
        gone = []
        for entry in task.payload["orderShipment"]["orderLines"]["orderLine"]:
            line = order.line(entry["lineNumber"])
            wanted = sum(int(s["statusQuantity"]["amount"])
                         for s in entry["orderLineStatuses"]["orderLineStatus"])
            cancelled = line.quantity_in("Cancelled") if line else 0
            if line and cancelled and wanted > line.quantity_in("Acknowledged"):
                reasons = sorted({cancellation_label(s.cancellation_reason) or "no reason given"
                                  for s in line.statuses if s.status == "Cancelled"})
                gone.append(f"line {line.line_number} ({cancelled} unit"
                            f"{'s' if cancelled != 1 else ''}, {', '.join(reasons)})")
        if not gone:
            return None
        return (f"Walmart cancelled {'; '.join(gone)} before this shipment reached it — the "
                "buyer's cancellation or Walmart's automatic one — and takes no shipment for "
                "cancelled lines.")

    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        shipment = payload.get("orderShipment", {})
        out = []
        for line in shipment.get("orderLines", {}).get("orderLine", []):
            for status in line.get("orderLineStatuses", {}).get("orderLineStatus", []):
                info = status.get("trackingInfo", {})
                carrier = info.get("carrierName", {})
                name = carrier_label(carrier.get("carrier")) or carrier.get("otherCarrier") or "?"
                text = (f"Line {line.get('lineNumber')}: {_quantity(status)} shipped, {name} "
                        f"{info.get('trackingNumber', '')}, {info.get('methodCode', '')}")
                if status.get("currentTrackingInfo"):
                    text += f" (replacing {status['currentTrackingInfo'].get('trackingNumber')})"
                if line.get("intentToCancelOverride"):
                    text += ", shipped despite the buyer's cancel request"
                out.append(text)
        return out


class Cancel(_OrderKind):
    """POST /v3/orders/{po}/cancel with every remaining quantity and the reason."""

    kind = TaskKind.CANCEL
    endpoint = "cancel"
    # Walmart refuses (400) to cancel units already cancelled: read back before calling it
    # an error.
    read_back_note = "Walmart already showed these lines cancelled"
    in_flight_text = "Sending cancellation to Walmart…"

    def send(self, client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.cancel(task.target, task.payload)

    def applied(self, task: SyncTask, order: PurchaseOrder) -> bool:
        """Nothing left open on the canceled lines at Walmart, and at least the quantities
        of the body shown Cancelled (lines shipped instead are not canceled)."""
        for entry in task.payload["orderCancellation"]["orderLines"]["orderLine"]:
            line = order.line(entry["lineNumber"])
            wanted = sum(int(s["statusQuantity"]["amount"])
                         for s in entry["orderLineStatuses"]["orderLineStatus"])
            if line is None or line.quantity_in("Created") + line.quantity_in("Acknowledged"):
                return False
            if line.quantity_in("Cancelled") < wanted:
                return False
        return True

    def on_success(self, task: SyncTask, order: PurchaseOrder) -> None:
        """Walmart's view of the order, and the canceled units released from stock."""
        super().on_success(task, order)
        release_stock(task)

    def on_resolved(self, task: SyncTask) -> None:
        """Canceled by hand at Walmart: the units are free."""
        release_stock(task)

    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        lines = payload.get("orderCancellation", {}).get("orderLines", {}).get("orderLine", [])
        return [f"Line {line.get('lineNumber')}: {_quantity(status)} canceled, reason "
                f"{cancellation_label(status.get('cancellationReason')) or '?'}"
                for line in lines
                for status in line.get("orderLineStatuses", {}).get("orderLineStatus", [])]


class RefundReturn(TaskKindDef):
    """POST /v3/returns/{rma}/refund: quantities per return line; read back before a resend.
    The return's status follows the task's (Sending, Refunded, Error)."""

    kind = TaskKind.REFUND
    endpoint = "return_refund"
    read_endpoint = "returns"
    read_back_note = "Walmart already showed these units refunded"
    in_flight_text = "Sending refund to Walmart…"
    explanations = (
        (r"refundable|Refund amount exceeds|exceeds the charged|SHIPPED status"
         r"|measurementValue|returnOrderLineNumber",
         "Walmart will not refund this quantity",
         "The units were already refunded (perhaps by Walmart itself) or the return line does "
         "not allow that many.",
         "Check the return in Seller Center. If it is refunded there, choose Fixed in Seller "
         "Center; otherwise refund a smaller quantity."),
    )

    @staticmethod
    def _refund(task: SyncTask) -> Refund | None:
        return db.session.scalar(select(Refund).where(Refund.task_id == task.id))

    def _refresh_return(self, task: SyncTask) -> None:
        refund = self._refund(task)
        if refund is not None:
            return_status.refresh(db.session.get(Return, refund.return_id))

    def send(self, client: WalmartClient, task: SyncTask):
        return client.refund_return(task.target, task.payload)

    def read_back(self, client: WalmartClient, task: SyncTask):
        page = client.returns(returnOrderId=task.target)
        return page.returns[0] if page.returns else None

    def applied(self, task: SyncTask, ret) -> bool:
        """Walmart counts at least as many refunded units per line as this refund makes."""
        if ret is None:
            return False
        expected = self._refund(task).expected
        have = {x.return_line_number: x.refunded_quantity for x in ret.lines}
        return all(have.get(int(n), 0) >= q for n, q in expected.items())

    def on_success(self, task: SyncTask, result) -> None:
        ret = db.session.get(Return, self._refund(task).return_id)
        task.state = TaskState.SYNCED  # the return's status reads it
        return_status.refresh(ret)
        for order in {x.order for x in ret.lines if x.order}:
            link_order(order)

    def on_error(self, task: SyncTask) -> None:
        """Walmart refused a refund: the return shows Error (and the units are refundable
        again only after Retry succeeds or someone resolves it)."""
        self._refresh_return(task)

    def on_reopened(self, task: SyncTask) -> None:
        self._refresh_return(task)

    def on_resolved(self, task: SyncTask) -> None:
        self._refresh_return(task)

    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        return [f"Return line {line.get('returnOrderLineNumber')}: refund "
                f"{_quantity(line)} unit(s)" for line in payload.get("refundLines", [])]


class Inventory(TaskKindDef):
    """PUT /v3/inventory: the SKU's available quantity at the task's ship node, read when sent
    (so the latest wins). Setting an absolute quantity is idempotent: no read-back is needed.
    The target is the SKU; the payload's "shipNode" is the stock row's node (absent: the
    default node), kept when the body is written at sending."""

    kind = TaskKind.INVENTORY
    endpoint = "inventory"
    read_endpoint = None
    # A SKU's stock at another ship node is another quantity.
    queued_per_ship_node = True
    in_flight_text = "Sending stock to Walmart…"

    @staticmethod
    def _stock(task: SyncTask):
        return stock_levels.get_or_create(task.store_id, task.target,
                                          stock_levels.task_node(task))

    def send(self, client: WalmartClient, task: SyncTask):
        held, node = self._stock(task), stock_levels.task_node(task)
        body = payloads.inventory(task.target, held.available or 0)
        task.payload = {**body, "shipNode": node} if node else body
        # Named only when the store knows several nodes (else Walmart's default node, as
        # before ship nodes); read before the commit so the store is current.
        ship_node = ship_nodes.push_node(db.session.get(Store, task.store_id), node)
        db.session.commit()  # what is being sent, visible on the Sync page
        return client.update_inventory(task.target, body, ship_node=ship_node)

    def applied(self, task: SyncTask, result) -> bool:
        return False

    def on_success(self, task: SyncTask, level) -> None:
        held = self._stock(task)
        held.pushed_quantity, held.pushed_at = level.amount, utcnow()
        # Walmart holds what we pushed: a reconciliation's stock finding of it closes.
        reconcile_findings.close_stock(task.store_id, held.sku, held.ship_node)
        if held.available != level.amount:  # it changed while this push was being sent
            stock_levels.request_push(held)

    def summary(self, task: SyncTask, payload: dict) -> list[str]:
        amount = (payload.get("quantity") or {}).get("amount")
        what = amount if amount is not None else "its available quantity when sent"
        return [f"Set SKU {self.target_text(task)} to {what}"]

    def target_text(self, task: SyncTask) -> str:
        """The SKU, and its ship node when the task names one."""
        node = (task.payload or {}).get("shipNode")
        return f"{task.target} at ship node {node}" if node else task.target


KINDS: dict[TaskKind, TaskKindDef] = {
    d.kind: d for d in (Acknowledge(), Ship(), Cancel(), RefundReturn(), Inventory())}


def kind_of(task: SyncTask) -> TaskKindDef:
    """The definition of the task's kind (its column holds the kind's value)."""
    return KINDS[TaskKind(task.kind)]
