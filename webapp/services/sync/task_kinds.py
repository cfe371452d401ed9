"""What each kind of sync task sends, how it is read back, and what success changes locally."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import Store, SyncTask
from webapp.walmart import WalmartClient
from webapp.walmart.enums import cancellation_label
from webapp.walmart.schema import PurchaseOrder


class Acknowledge:
    """POST /v3/orders/{po}/acknowledge — the whole order, no body."""

    endpoint = "acknowledge"
    read_endpoint = "order"
    # Walmart refuses to acknowledge once any quantity moved on (e.g. the buyer cancelled a
    # line): when nothing is left in Created, that refusal means there is nothing to do.
    recheck_on_data_error = True
    read_back_note = "nothing was left to acknowledge at Walmart"

    @staticmethod
    def send(client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.acknowledge(task.target)

    @staticmethod
    def read_back(client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.get_order(task.target)

    @staticmethod
    def applied(task: SyncTask, order: PurchaseOrder) -> bool:
        """Nothing left in Created: acknowledged (or cancelled at Walmart meanwhile)."""
        return all(line.quantity_in("Created") == 0 for line in order.lines)

    @staticmethod
    def on_success(task: SyncTask, order: PurchaseOrder) -> None:
        from webapp.services.orders.storing import upsert

        upsert(db.session.get(Store, task.store_id), order)


class Ship:
    """POST /v3/orders/{po}/shipping with the stored body; never re-sent unread."""

    endpoint = "shipping"
    read_endpoint = "order"
    # Shipping is not idempotent: Walmart refuses (400) lines already shipped. When they are
    # shipped with this task's tracking numbers, the refusal means it is done.
    recheck_on_data_error = True
    read_back_note = "Walmart already showed these lines shipped with this tracking number"

    @staticmethod
    def send(client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.ship(task.target, task.payload)

    read_back = Acknowledge.read_back

    @staticmethod
    def applied(task: SyncTask, order: PurchaseOrder) -> bool:
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

    on_success = Acknowledge.on_success

    @staticmethod
    def refusal(task: SyncTask, order: PurchaseOrder) -> str | None:
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


class Cancel:
    """POST /v3/orders/{po}/cancel with every remaining quantity and the reason."""

    endpoint = "cancel"
    read_endpoint = "order"
    # Walmart refuses (400) to cancel units already cancelled: read back before calling it
    # an error.
    recheck_on_data_error = True
    read_back_note = "Walmart already showed these lines cancelled"
    read_back = Acknowledge.read_back

    @staticmethod
    def on_success(task: SyncTask, order: PurchaseOrder) -> None:
        """Walmart's view of the order, and the canceled units released from stock."""
        from webapp.services.stock.cancelling import release_stock

        Acknowledge.on_success(task, order)
        release_stock(task)

    @staticmethod
    def send(client: WalmartClient, task: SyncTask) -> PurchaseOrder:
        return client.cancel(task.target, task.payload)

    @staticmethod
    def applied(task: SyncTask, order: PurchaseOrder) -> bool:
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


class Inventory:
    """PUT /v3/inventory: the SKU's available quantity at the task's ship node, read when sent
    (so the latest wins). Setting an absolute quantity is idempotent: no read-back is needed.
    The target is the SKU; the payload's "shipNode" is the stock row's node (absent: the
    default node), kept when the body is written at sending."""

    endpoint = "inventory"
    read_endpoint = None
    recheck_on_data_error = False
    read_back = None

    @staticmethod
    def _stock(task: SyncTask):
        from webapp.services.stock.levels import get_or_create, task_node

        return get_or_create(task.store_id, task.target, task_node(task))

    @classmethod
    def send(cls, client: WalmartClient, task: SyncTask):
        from webapp.services.stock import ship_nodes
        from webapp.services.stock.levels import task_node
        from webapp.walmart import payloads

        held, node = cls._stock(task), task_node(task)
        body = payloads.inventory(task.target, held.available or 0)
        task.payload = {**body, "shipNode": node} if node else body
        # Named only when the store knows several nodes (else Walmart's default node, as
        # before ship nodes); read before the commit so the store is current.
        ship_node = ship_nodes.push_node(db.session.get(Store, task.store_id), node)
        db.session.commit()  # what is being sent, visible on the Sync page
        return client.update_inventory(task.target, body, ship_node=ship_node)

    @staticmethod
    def applied(task: SyncTask, result) -> bool:
        return False

    @classmethod
    def on_success(cls, task: SyncTask, level) -> None:
        from webapp.models.base import utcnow
        from webapp.services.stock.levels import request_push

        held = cls._stock(task)
        held.pushed_quantity, held.pushed_at = level.amount, utcnow()
        if held.available != level.amount:  # it changed while this push was being sent
            request_push(held)


class RefundReturn:
    """POST /v3/returns/{rma}/refund: quantities per return line; read back before a resend."""

    endpoint = "return_refund"
    read_endpoint = "returns"
    recheck_on_data_error = False
    read_back_note = "Walmart already showed these units refunded"

    @staticmethod
    def _refund(task: SyncTask):
        from sqlalchemy import select

        from webapp.models import Refund

        return db.session.scalar(select(Refund).where(Refund.task_id == task.id))

    @staticmethod
    def send(client: WalmartClient, task: SyncTask):
        return client.refund_return(task.target, task.payload)

    @staticmethod
    def read_back(client: WalmartClient, task: SyncTask):
        page = client.returns(returnOrderId=task.target)
        return page.returns[0] if page.returns else None

    @classmethod
    def applied(cls, task: SyncTask, ret) -> bool:
        """Walmart counts at least as many refunded units per line as this refund makes."""
        if ret is None:
            return False
        expected = cls._refund(task).expected
        have = {x.return_line_number: x.refunded_quantity for x in ret.lines}
        return all(have.get(int(n), 0) >= q for n, q in expected.items())

    @classmethod
    def on_success(cls, task: SyncTask, result) -> None:
        from webapp.models import Return
        from webapp.services.returns.linking import link_order
        from webapp.services.returns.status import refresh

        ret = db.session.get(Return, cls._refund(task).return_id)
        task.state = "synced"  # the return's status reads it
        refresh(ret)
        for order in {x.order for x in ret.lines if x.order}:
            link_order(order)


HANDLERS = {"acknowledge": Acknowledge, "ship": Ship, "cancel": Cancel, "inventory": Inventory,
            "refund": RefundReturn}
