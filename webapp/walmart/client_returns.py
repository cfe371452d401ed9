"""Walmart's returns and inventory calls, part of WalmartClient (client.py holds the
transport they go through: `_call`, `_filters`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from webapp.walmart import schema_returns

MAX_LIMIT = 200
RETURN_DATE_RANGES = (("returnCreationStartDate", "returnCreationEndDate"),
                      ("returnLastModifiedStartDate", "returnLastModifiedEndDate"))


class ReturnsAndInventory:
    """GET /v3/returns, POST /v3/returns/{rma}/refund, GET and PUT /v3/inventory."""

    def returns(self, **filters: Any) -> schema_returns.ReturnPage:
        """GET /v3/returns; a date range goes with both of its bounds or not at all."""
        for start, end in RETURN_DATE_RANGES:  # Walmart answers a lone bound with a 400
            if (filters.get(start) is None) != (filters.get(end) is None):
                raise ValueError(f"{start} and {end} go together: give both or neither")
        filters.setdefault("limit", MAX_LIMIT)
        body = self._call("GET", "/v3/returns", params=self._filters(filters), empty_ok=True)
        if body is None:
            return schema_returns.ReturnPage(returns=(), next_cursor=None, total_count=0)
        return schema_returns.parse_return_list(body)

    def next_returns(self, cursor: str) -> schema_returns.ReturnPage:
        path = "/v3/returns" + (cursor if cursor.startswith("?") else "?" + cursor)
        body = self._call("GET", path, empty_ok=True)
        if body is None:
            return schema_returns.ReturnPage(returns=(), next_cursor=None, total_count=0)
        return schema_returns.parse_return_list(body)

    def iter_return_pages(self, **filters: Any):
        """Every page of a returns search; a cursor already followed ends it (never loop)."""
        page = self.returns(**filters)
        yield page
        followed = set()
        while page.next_cursor and page.next_cursor not in followed:
            followed.add(page.next_cursor)
            page = self.next_returns(page.next_cursor)
            yield page

    def refund_return(self, return_order_id: str, body: dict
                      ) -> schema_returns.ReturnRefundResult:
        """Body from payloads.return_refund()."""
        path = f"/v3/returns/{quote(return_order_id, safe='')}/refund"
        return schema_returns.parse_return_refund(self._call("POST", path, json_body=body))

    def update_inventory(self, sku: str, body: dict,
                         ship_node: str | None = None) -> schema_returns.InventoryLevel:
        """Body from payloads.inventory(); the SKU goes URL-encoded in the query, and the
        ship node too when one is named (without it Walmart updates the default node)."""
        params = {"sku": sku, **({"shipNode": ship_node} if ship_node else {})}
        return schema_returns.parse_inventory(
            self._call("PUT", "/v3/inventory", params=params, json_body=body))

    def inventory_level(self, sku: str, ship_node: str | None = None
                        ) -> schema_returns.InventoryLevel | None:
        """GET /v3/inventory?sku=…[&shipNode=…]: the quantity Walmart holds for the SKU (at
        the node, else the default node); None when Walmart has no inventory for it (its
        404 CONTENT_NOT_FOUND)."""
        params = {"sku": sku, **({"shipNode": ship_node} if ship_node else {})}
        body = self._call("GET", "/v3/inventory", params=params, empty_ok=True)
        return None if body is None else schema_returns.parse_inventory(body)
