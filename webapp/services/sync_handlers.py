"""What each kind of sync task sends, how it is read back, and what success changes locally."""

from __future__ import annotations

from webapp.extensions import db
from webapp.models import Store, SyncTask
from webapp.walmart import WalmartClient
from webapp.walmart.schema import PurchaseOrder


class Acknowledge:
    """POST /v3/orders/{po}/acknowledge — the whole order, no body."""

    endpoint = "acknowledge"
    read_endpoint = "order"
    # Walmart refuses to acknowledge once any quantity moved on (e.g. the buyer cancelled a
    # line): when nothing is left in Created, that refusal means there is nothing to do.
    recheck_on_data_error = True

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
        from webapp.services.order_import import upsert

        upsert(db.session.get(Store, task.store_id), order)


HANDLERS = {"acknowledge": Acknowledge}
