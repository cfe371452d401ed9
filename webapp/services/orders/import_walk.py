"""Walking one order search page by page: never in a loop, never short unnoticed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from webapp.models import Store
from webapp.services.sync import outbox
from webapp.walmart.schema import OrderPage

if TYPE_CHECKING:
    from webapp.services.orders.importer import _Pass

log = logging.getLogger(__name__)


def walk(state: _Pass, released: bool, filters: dict, *, take: Callable[[Store, str], None],
         store_page: Callable[[_Pass, OrderPage], None]) -> OrderPage:
    """Read every page of one search, storing each page as it arrives. The next page is
    fetched while this one is stored (Walmart's answer time and our database time overlap);
    the rate limit is taken before each fetch, as always.

    Walmart has been seen to replay pages: the walk stops at a cursor it already followed
    (never loops) and counts the orders it received against the first page's totalCount;
    either makes the walk incomplete (`state.incomplete`). The tasks its pages add
    (acknowledgements, stock pushes) are published once the walk is over: acknowledging takes
    an order off /v3/orders/released and would shift the pages still to be read."""
    endpoint = "released" if released else "orders"
    take(state.store, endpoint)
    page = (state.client.released_orders if released else state.client.orders)(**filters)
    state.run.total_expected = (state.run.total_expected or 0) + (page.total_count or 0)
    first, followed, received = page, set(), set()
    looped = False
    with outbox.held():  # left by an exception: rolled back, the pages stored so far published
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-fetch") as fetcher:
            while True:
                upcoming = None
                looped = page.next_cursor in followed
                if page.next_cursor and not looped:
                    followed.add(page.next_cursor)
                    take(state.store, endpoint)
                    upcoming = fetcher.submit(state.client.next_page, page.next_cursor,
                                              released=released)
                try:
                    store_page(state, page)
                except BaseException:
                    if upcoming is not None:
                        upcoming.cancel()
                    raise
                received.update(_received(page, len(received)))
                if upcoming is None:
                    break
                page = upcoming.result()
    what = "released orders" if released else "changed orders"
    if looped:
        state.incomplete.append(f"Walmart sent the same page link twice while listing {what}")
    elif _short(state, released, filters, first.total_count, len(received), take):
        state.incomplete.append(f"received {len(received)} of the {first.total_count} {what} "
                                "Walmart counted")
    return first


def _received(page: OrderPage, so_far: int) -> list[str]:
    """The purchase orders a page brought (one it could not name counts as one of its own)."""
    return [d.purchase_order_id for d in page.orders] + [
        po or f"unnamed-{so_far}-{n}" for n, (po, _error, _raw) in enumerate(page.failures)]


def _short(state: _Pass, released: bool, filters: dict, counted: int | None, received: int,
           take: Callable[[Store, str], None]) -> bool:
    """Did the walk receive fewer orders than Walmart counted? An order acknowledged during
    a released walk (a task of an earlier pass, Seller Center) leaves the list and shifts its
    pages; one left behind that way is still listed, so the next pass's released walk reads
    it (and one changed is read by the changed-orders search): a released walk is short only
    when it received fewer than are listed now, too."""
    if counted is None or received >= counted:
        return False
    if not released:
        return True
    take(state.store, "released")
    listed = state.client.released_orders(**filters, limit=1).total_count
    return listed is None or received < listed
