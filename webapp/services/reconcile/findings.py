"""The differences a reconciliation keeps: one open WalmartDifference (source "reconcile") per
order line and kind, or per SKU and ship node, from the pass that found it until a comparison
finds both sides agreeing again (a later pass, an import that reads the order, the read-back
of an action). Each is explained in words: what it means and what each action would do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, SkuStock, Store, WalmartDifference
from webapp.models.base import utcnow
from webapp.services.orders.walmart_shipments import _ours as recorded_tracking
from webapp.services.reconcile import compare
from webapp.services.reconcile.compare import MISSING, ORDER_KINDS, REFUNDED, STOCK, Found
from webapp.walmart.schema import PurchaseOrder

SOURCE = "reconcile"


def _key(d: WalmartDifference) -> tuple:
    return (d.order_line_id, d.kind, str((d.detail or {}).get("line") or ""))


def open_of_order(order_id: int, kinds: Iterable[str] = ORDER_KINDS) -> list[WalmartDifference]:
    return list(db.session.scalars(select(WalmartDifference).where(
        WalmartDifference.order_id == order_id, WalmartDifference.resolved_at.is_(None),
        WalmartDifference.source == SOURCE, WalmartDifference.kind.in_(list(kinds)))))


def open_of_stock(store_id: int, sku: str, node: str) -> list[WalmartDifference]:
    return list(db.session.scalars(select(WalmartDifference).where(
        WalmartDifference.resolved_at.is_(None), WalmartDifference.store_id == store_id,
        WalmartDifference.source == SOURCE, WalmartDifference.kind == STOCK,
        WalmartDifference.sku == sku, WalmartDifference.ship_node == node)))


def settle(store_id: int, existing: list[WalmartDifference], found: list[Found], *,
           order_id: int | None = None, sku: str | None = None,
           ship_node: str | None = None, close_only: bool = False) -> int:
    """Make the open findings of one compared scope (`existing`) what the comparison found:
    new ones added, changed ones reworded, those no longer found closed. `close_only`: only
    close (a comparison made on a record our own work may be ahead of: an import's). Returns
    how many were added. The caller commits."""
    now = {f.key: f for f in found}
    old = {_key(d): d for d in existing}
    stamp = utcnow()
    for key, difference in old.items():
        if key not in now:
            difference.resolved_at = stamp
    if close_only:
        return 0
    added = 0
    for key, f in now.items():
        difference = old.get(key)
        if difference is not None:
            if (difference.ours, difference.walmart, difference.detail) != (
                    f.ours, f.walmart, f.detail):
                difference.ours, difference.walmart, difference.detail = \
                    f.ours, f.walmart, f.detail
            continue
        db.session.add(WalmartDifference(
            store_id=store_id, order_id=order_id, order_line_id=f.line_id, task_id=None,
            source=SOURCE, kind=f.kind, ours=f.ours, walmart=f.walmart, detail=f.detail,
            sku=sku, ship_node=ship_node, found_at=stamp))
        added += 1
    return added


def refresh_flag(order: Order) -> None:
    """The order's "Walmart disagrees" flag: any open finding, of any source."""
    db.session.flush()
    order.walmart_disagrees = db.session.scalar(select(WalmartDifference.id).where(
        WalmartDifference.order_id == order.id, WalmartDifference.resolved_at.is_(None))
        .limit(1)) is not None


def compare_order(order: Order, data: PurchaseOrder, close_only: bool = False) -> int:
    """Compare the order with Walmart's view and settle its findings of the order's kinds.
    Lines under an open "Fixed in Seller Center" check are left to that check."""
    checked = {d.order_line_id for d in db.session.scalars(select(WalmartDifference).where(
        WalmartDifference.order_id == order.id, WalmartDifference.resolved_at.is_(None),
        WalmartDifference.source != SOURCE))}
    skip = {line.line_number for line in order.lines if line.id in checked}
    tracking = recorded_tracking([order.id]).get(order.id, {})
    found = compare.order(order, data, tracking, skip)
    added = settle(order.store_id, open_of_order(order.id), found, order_id=order.id,
                   close_only=close_only)
    refresh_flag(order)
    return added


def order_missing(order: Order, walmart_code: str) -> int:
    """Walmart answered 404 for the order: a finding of its own (nothing to compare), closed
    by the next pass that reads the order. Returns how many were added (0 or 1)."""
    found = [Found(MISSING, f"Order {order.number} ({order.status})",
                   f"No such order for this seller account (404 {walmart_code})")]
    added = settle(order.store_id, open_of_order(order.id, [MISSING]), found,
                   order_id=order.id)
    refresh_flag(order)
    return added


def recheck_after_import(order: Order, data: PurchaseOrder) -> None:
    """An import (or an update's success) stored Walmart's view of an order Walmart disagreed
    about: close the reconciliation's findings it shows agreeing now. Nothing for any other
    order (the flag is off)."""
    if order.walmart_disagrees and open_of_order(order.id):
        compare_order(order, data, close_only=True)


def close_stock(store_id: int, sku: str, node: str) -> None:
    """A stock push succeeded: Walmart holds what we pushed, so its stock finding closes."""
    for difference in open_of_stock(store_id, sku, node):
        difference.resolved_at = utcnow()


# -- words ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Explanation:
    title: str
    meaning: str
    adopt: str | None   # what Adopt Walmart's state does (None: not offered)
    send: str | None    # what Send ours again does (None: not offered)
    why_no_send: str | None = None


def _ahead(difference: WalmartDifference) -> str:
    """"ours" when Orderdeck shows more done than Walmart, "walmart" when Walmart does."""
    detail = difference.detail or {}
    ours, walmart = detail.get("ours"), detail.get("walmart")
    if isinstance(ours, bool) or isinstance(walmart, bool):
        return "ours" if ours else "walmart"
    if ours is None:
        return "walmart"
    if walmart is None:
        return "ours"
    return "ours" if ours > walmart else "walmart"


NOTHING_TO_SEND = ("Walmart shows more done than Orderdeck recorded: there is nothing of "
                   "ours to send. Adopt Walmart's state instead.")


def explain(d: WalmartDifference) -> Explanation:
    """What the difference means and what each action does, in words."""
    if d.kind == MISSING:
        return Explanation(
            "Walmart does not know this order",
            "Walmart answers that this seller account has no such order (404). The store's "
            "keys may now be another seller account's, or the order is older than Walmart "
            "keeps (about 180 days). Nothing of it can be read or sent.",
            None, None,
            "Look the order up in Seller Center and check the store's keys (Test connection "
            "on its page). This closes when a later reconciliation can read the order.")
    ahead = _ahead(d)
    if d.kind == "shipped":
        if ahead == "walmart":
            return Explanation(
                "Walmart shows more units shipped",
                "These units were shipped in Seller Center or by another tool, and no import "
                "brought it here. Orderdeck still counts them to ship (and keeps their stock "
                "reserved).",
                "Record Walmart's shipment here (its tracking numbers); the units stop "
                "counting as open.", None, NOTHING_TO_SEND)
        return Explanation(
            "Walmart does not show this shipment",
            "Orderdeck recorded these units shipped, but Walmart does not have them shipped: "
            "the update was lost, or was marked fixed in Seller Center without being done. "
            "Until Walmart has it, the buyer sees no tracking and Walmart may cancel the units.",
            "Take Walmart's count: the units are open here again, to be shipped.",
            "Send Orderdeck's shipment (its tracking numbers) to Walmart again. Walmart is "
            "read back first, so nothing is sent twice.")
    if d.kind == "canceled":
        if ahead == "walmart":
            return Explanation(
                "Walmart shows more units canceled",
                "These units were canceled at Walmart (by the buyer, in Seller Center, or by "
                "Walmart itself) and no import brought it here. Do not ship them.",
                "Record the cancellation here; the units stop counting as open and their stock "
                "is released.", None, NOTHING_TO_SEND)
        return Explanation(
            "Walmart does not show this cancellation",
            "Orderdeck recorded these units canceled, but Walmart still expects them to ship.",
            "Take Walmart's count: the units are open here again, to be shipped or canceled.",
            "Send Orderdeck's cancellation to Walmart again (read back first).")
    if d.kind == "acknowledged":
        if ahead == "walmart":
            return Explanation(
                "Walmart shows the order acknowledged",
                "Another tool or Seller Center acknowledged it; Orderdeck has not recorded it.",
                "Record the acknowledgement here.", None, NOTHING_TO_SEND)
        return Explanation(
            "Walmart does not show the acknowledgement",
            "Orderdeck recorded the order acknowledged, but Walmart still has units waiting "
            "for it. Walmart may cancel orders left unacknowledged.",
            "Record the order as not acknowledged here.",
            "Send the acknowledgement to Walmart again (read back first).")
    if d.kind == "tracking":
        return Explanation(
            "Walmart shows other tracking numbers",
            "The units are shipped on both sides, under different tracking numbers: the number "
            "was changed in Seller Center, or a correction did not reach Walmart.",
            "Record Walmart's tracking numbers here in place of Orderdeck's.", None,
            "Walmart changes a tracking number only through Correct tracking, within 4 hours "
            "of shipping: use it on the order page, or change the number in Seller Center.")
    if d.kind == "ordered":
        return Explanation(
            "Walmart's order has other lines or quantities",
            "The order's lines differ from what Orderdeck imported.",
            "Take Walmart's lines and quantities.", None,
            "Only Walmart sets what was ordered: there is nothing of ours to send.")
    if d.kind == REFUNDED:
        if ahead == "walmart":
            return Explanation(
                "Walmart shows more units refunded",
                "The return was refunded in Seller Center or by Walmart itself, and no returns "
                "import brought it here. Do not refund these units again.",
                "Record Walmart's refund here.", None, NOTHING_TO_SEND)
        return Explanation(
            "Walmart does not show this refund",
            "Orderdeck recorded these units refunded, but Walmart's return does not count them "
            "refunded: the buyer may not have been paid back.",
            "Take Walmart's count: the units can be refunded again from the return page.",
            None, "Adopt Walmart's count, then refund the units from the return page: the "
            "refund shows its amounts before it is sent.")
    # stock
    return Explanation(
        "Walmart holds another stock quantity",
        "The quantity Walmart shows buyers is not the one Orderdeck last sent: it was changed "
        "in Seller Center or by another tool, or an update was lost. Walmart may sell units "
        "that are not on the shelf, or hide units that are.",
        "Take Walmart's quantity as this SKU's available stock here (on hand becomes "
        "Walmart's quantity plus the units reserved for open orders).",
        "Send Orderdeck's available quantity to Walmart again.")


KIND_LABELS = {"ordered": "Ordered quantity", "acknowledged": "Acknowledgement",
               "shipped": "Shipped quantity", "canceled": "Canceled quantity",
               "tracking": "Tracking numbers", REFUNDED: "Refunded quantity",
               STOCK: "Stock", MISSING: "The order itself"}


# -- lists ---------------------------------------------------------------------------------

# The page shows this many (newest first) and says how many more wait: each row reads its order
# and lines, so thousands at once would make a slow page nobody can work through anyway.
PAGE_LIMIT = 500


def open_findings(store_id: int | None = None,
                  limit: int | None = None) -> list[WalmartDifference]:
    """The open findings of reconciliations, newest first (the Reconciliation page)."""
    query = select(WalmartDifference).where(WalmartDifference.resolved_at.is_(None),
                                            WalmartDifference.source == SOURCE)
    if store_id is not None:
        query = query.where(WalmartDifference.store_id == store_id)
    return list(db.session.scalars(
        query.order_by(WalmartDifference.id.desc()).limit(limit or PAGE_LIMIT)
        .options(selectinload(WalmartDifference.order).selectinload(Order.lines),
                 selectinload(WalmartDifference.order_line))))


def count_open(store_id: int | None = None) -> int:
    """Open findings of reconciliations (Home's to-do)."""
    query = select(func.count(WalmartDifference.id)).where(
        WalmartDifference.resolved_at.is_(None), WalmartDifference.source == SOURCE)
    if store_id is not None:
        query = query.where(WalmartDifference.store_id == store_id)
    return db.session.scalar(query) or 0


def subject(d: WalmartDifference) -> str:
    """What the finding is about, in words: "order 100012 line 2", "SKU MUG-12"."""
    if d.order is not None:
        line = (d.detail or {}).get("line")
        return f"order {d.order.number}" + (f" line {line}" if line else "")
    node = f" at ship node {d.ship_node}" if d.ship_node else ""
    return f"SKU {d.sku}{node}"


def as_json(d: WalmartDifference, store_names: dict[int, str]) -> dict:
    why = explain(d)
    return {"id": d.id, "store": store_names.get(d.store_id), "kind": d.kind,
            "order": d.order.number if d.order else None,
            "purchase_order_id": d.order.purchase_order_id if d.order else None,
            "line": (d.detail or {}).get("line"), "sku": d.sku or (
                d.order_line.sku if d.order_line else None),
            "ship_node": d.ship_node, "ours": d.ours, "walmart": d.walmart,
            "title": why.title, "meaning": why.meaning,
            "found_at": d.found_at.isoformat() if d.found_at else None}


def store_names() -> dict[int, str]:
    return dict(db.session.execute(select(Store.id, Store.name)).all())


def stock_row(d: WalmartDifference) -> SkuStock | None:
    return db.session.scalar(select(SkuStock).where(
        SkuStock.store_id == d.store_id, SkuStock.sku == d.sku,
        SkuStock.ship_node == (d.ship_node or "")))
