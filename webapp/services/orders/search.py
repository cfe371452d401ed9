"""The Orders page's search: what a typed text means, each meaning found through an index.

A text matches an order by its Walmart PO, its customer order number, our order number or a
tracking number of its shipments (exactly); by the start of a line's SKU (case-insensitive);
and, unless it is all digits, by its customer's name: anywhere in the name (case-insensitive)
from three characters on, by the start of the name below that.

Each meaning has its index: the exact ones their columns' indexes; the SKU and a short name a
range on an index of lower(...); a name fragment SQLite's FTS5 trigram table (a superset, which
ILIKE then narrows to the matches) or PostgreSQL's pg_trgm GIN index. So a page first reads the
ids each meaning finds (`_found`, one statement), and then fetches and sorts those orders.

That is slow only when a meaning finds many orders: "son" is in a quarter of a shop's names,
and gathering and sorting a quarter million orders to show 51 takes seconds. Walking the
page's sort index from the newest order and testing each one finds 51 of them within a few
hundred. The planner cannot tell the two apart from a count it does not have, so `_found`
reads at most WALK_FROM ids per meaning, and a meaning that reaches it is tested on each order
as the page walks its order instead (`_walk_test`: written so no index can serve it, or the
planner might gather the matches again).

Except for a name fragment on PostgreSQL: a GIN index cannot be read up to a limit (it builds
its whole bitmap first: 40 ms for a common trigram at a million orders), but PostgreSQL's
planner estimates from its statistics how common a fragment is, and picks the GIN index or the
walk by itself; the page query carries the fragment's ILIKE as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from webapp.extensions import db
from webapp.models import Order, OrderLine, Shipment, ShipmentPackage
from webapp.numbers import digits

SHORT_NAME = 3  # a name text shorter than this matches the start of names (it has no trigram)
# A meaning finding this many orders is tested row by row as the page walks its order: 51
# matches then lie within about 51 × orders / WALK_FROM rows (25,000 at a million orders, far
# fewer for the broad texts that get here), while sorting WALK_FROM orders stays cheap.
WALK_FROM = 2000
# SQLite's FTS5 trigram table over orders.customer_name (migration d1a5e7c3b901; triggers keep
# it), read by rowid, which is the order's id.
NAME_SEARCH = table("orders_name_search")


@dataclass(frozen=True)
class Text:
    """A typed search text, with what the database makes of it."""
    raw: str
    folded: str  # lower(raw) as the database folds it (SQLite: ASCII letters only)
    dialect: str

    @property
    def names(self) -> bool:
        return not digits(self.raw)  # order numbers are digits, names are not

    @property
    def short(self) -> bool:
        return len(self.raw) < SHORT_NAME

    @property
    def tracking(self) -> str:
        return self.raw.replace(" ", "").upper()

    @property
    def like_pattern(self) -> str:
        """The text as a LIKE pattern matching it anywhere, its %, _ and \\ taken literally."""
        escaped = self.raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"

    @property
    def planner_decides(self) -> bool:
        """A name fragment on PostgreSQL (see the module's docstring)."""
        return self.names and not self.short and self.dialect == "postgresql"

    @property
    def trigrams(self) -> bool:
        """pg_trgm can narrow by it: only runs of letters and digits give it trigrams, and a
        LIKE without any reads its whole index (slower than reading every order)."""
        return bool(ALPHANUMERIC_RUN.search(self.raw))

    @property
    def candidates_only(self) -> bool:
        """Its name index finds candidates, not matches (SQLite's trigram table)."""
        return self.names and not self.short and self.dialect == "sqlite"

    @property
    def after(self) -> str | None:
        return _after_prefix(self.folded)

    @property
    def phrase(self) -> str:
        """The text as one FTS5 string: every character literal (quotes doubled)."""
        return '"' + self.raw.replace('"', '""') + '"'

    @property
    def shape(self) -> tuple:
        """What decides the statements' SQL (not their values)."""
        return self.dialect, self.names, self.short, self.after is None

    def bind(self, name: str) -> BindParameter:
        """One of the text's values as a named parameter: statements of the same shape are
        built once and run with each text's values (_found)."""
        return bindparam(f"search_{name}", getattr(self, name), type_=String)

    def values(self) -> dict[str, str | None]:
        return {f"search_{name}": getattr(self, name) for name in PARAMETERS}


ALPHANUMERIC_RUN = re.compile(r"[^\W_]{3}")
PARAMETERS = ("raw", "folded", "after", "tracking", "like_pattern", "phrase")


def read(raw: str) -> Text:
    """The text with the database's own lower() of it (one round trip): a prefix range on an
    index of lower(...) is exact only when both sides are folded alike."""
    return Text(raw, db.session.scalar(select(func.lower(literal(raw)))),
                db.session.get_bind().dialect.name)


def condition(t: Text, walk_if_many: bool = True) -> ColumnElement[bool]:
    """Orders matching `t`, for a page (`walk_if_many`: the ids found, or a test of each row
    for a meaning that finds many) or for a count (every match, through the indexes)."""
    if not walk_if_many:
        return Order.id.in_(matching_ids(t))
    terms, sure = [], set()
    for meaning, ids in _found(t).items():
        if len(ids) >= WALK_FROM:
            terms.append(_walk_test(t, meaning))
        elif meaning == "name" and t.candidates_only:
            if ids:
                terms.append(and_(_among(ids, t, "candidates"), _contains(t)))
        else:
            sure.update(ids)
    if sure:
        terms.append(_among(sorted(sure), t, "found"))
    if t.planner_decides:
        terms.append(_contains(t) if t.trigrams else _walk_test(t, "name"))
    return or_(*terms) if terms else false()


def _among(ids: list[int], t: Text, name: str) -> ColumnElement[bool]:
    """The order is one of `ids`, passed as one parameter (an array; a JSON text on SQLite):
    binding a thousand parameters costs more than the lookups."""
    if t.dialect == "postgresql":
        return Order.id == any_(bindparam(f"search_{name}", ids, type_=ARRAY(Integer)))
    listed = func.json_each(bindparam(f"search_{name}", json.dumps(ids))).table_valued("value")
    return Order.id.in_(select(listed.c.value))


def matching_ids(t: Text) -> Select:
    """The ids of every matching order (with repeats), each meaning read from its index."""
    parts = [*_exact_ids(t), _sku_ids(t)]
    if t.names:
        name = _name_ids(t)
        parts.append(select(Order.id).where(Order.id.in_(name), _contains(t))
                     if t.candidates_only else name)
    return union_all(*parts)


def _found(t: Text) -> dict[str, list[int]]:
    """Up to WALK_FROM ids for each meaning ("exact", "sku", "name"), read in one statement
    as one row per meaning (its ids joined in a string: a few rows to fetch, not thousands)."""
    found: dict[str, list[int]] = {"exact": [], "sku": []}
    statement = FOUND_STATEMENTS.get(t.shape)
    if statement is None:  # built once per shape: building it costs more than running it
        statement = FOUND_STATEMENTS[t.shape] = _found_statement(t)
    for meaning, joined in db.session.execute(statement, t.values()):
        found[meaning] = [int(n) for n in joined.split(",")]
    return found


FOUND_STATEMENTS: dict[tuple, Select] = {}  # by Text.shape (16 at most)


def _found_statement(t: Text) -> Select:
    """_found's statement for texts of t's shape, with t's values (each run passes its own)."""
    # A range is read in its index's order: asked for its first rows, PostgreSQL would
    # rather scan the table than look each row up (the index holds lower(sku), not sku).
    meanings = {"exact": (union_all(*_exact_ids(t)), None),
                "sku": (_sku_ids(t), _index_order(OrderLine.sku, t))}
    if t.names and not t.planner_decides:
        meanings["name"] = (_name_ids(t),
                            _index_order(Order.customer_name, t) if t.short else None)
    parts = []
    for meaning, (ids, index_order) in meanings.items():
        ordered = ids if index_order is None else ids.order_by(index_order)
        first = ordered.limit(WALK_FROM).subquery()
        parts.append(select(literal(meaning).label("meaning"), first.c.id))
    every = union_all(*parts).subquery()
    return select(every.c.meaning, func.aggregate_strings(cast(every.c.id, String), ",")) \
        .group_by(every.c.meaning)


def _exact_ids(t: Text) -> list[Select]:
    return [select(Order.id).where(Order.purchase_order_id == t.bind("raw")),
            select(Order.id).where(Order.customer_order_id == t.bind("raw")),
            select(Order.id).where(Order.number == t.bind("raw")),
            select(Shipment.order_id.label("id")).join(ShipmentPackage).where(
                ShipmentPackage.tracking_number == t.bind("tracking"))]


def _sku_ids(t: Text) -> Select:
    return select(OrderLine.order_id.label("id")).where(_starts(OrderLine.sku, t))


def _name_ids(t: Text) -> Select:
    """Ids from the name's index: the start of the name for a short text; else PostgreSQL's
    ILIKE through pg_trgm, or SQLite's trigram table — every order whose name holds the text's
    trigrams in a row, case folded: a superset of the matches, which _contains decides."""
    if t.short:
        return select(Order.id).where(_starts(Order.customer_name, t))
    if t.dialect != "sqlite":
        return select(Order.id).where(_contains(t) if t.trigrams else _walk_test(t, "name"))
    return select(literal_column("rowid").label("id")).select_from(NAME_SEARCH).where(
        literal_column("orders_name_search").op("MATCH", is_comparison=True)(t.bind("phrase")))


def _contains(t: Text) -> ColumnElement[bool]:
    """The name holds the text, case-insensitive: ILIKE (lower() LIKE lower() on SQLite)."""
    return Order.customer_name.ilike(t.bind("like_pattern"), escape="\\")


def _walk_test(t: Text, meaning: str) -> ColumnElement[bool]:
    """A meaning as a test of the order at hand, in forms no index serves, so the planner
    walks the page's sort index rather than gathering every match: lower() LIKE lower() (what
    ILIKE does on both databases, and not the expression pg_trgm indexes); a line or package
    looked up as a scalar subquery (PostgreSQL would hash an EXISTS over every matching line
    first, counting on the whole table to be walked)."""
    if meaning == "exact":
        package = select(literal(1)).select_from(Shipment).join(ShipmentPackage).where(
            Shipment.order_id == Order.id, ShipmentPackage.tracking_number == t.bind("tracking"))
        return or_(Order.purchase_order_id == t.bind("raw"),
                   Order.customer_order_id == t.bind("raw"), Order.number == t.bind("raw"),
                   package.limit(1).scalar_subquery().is_not(None))
    if meaning == "sku":
        # The start of the SKU compared as a substring, not as _starts' range: PostgreSQL
        # would read that range of the SKU index (thousands of entries) for every order the
        # walk tests (1.8 s at a million orders), where the order's own lines are two or three.
        starts = func.substr(func.lower(OrderLine.sku), 1, len(t.folded)) == t.bind("folded")
        line = select(literal(1)).where(OrderLine.order_id == Order.id, starts)
        return line.limit(1).scalar_subquery().is_not(None)
    name = func.lower(Order.customer_name)
    if t.short:
        return func.substr(name, 1, len(t.folded)) == t.bind("folded")
    return name.like(func.lower(t.bind("like_pattern")), escape="\\")


def _starts(column, t: Text) -> ColumnElement[bool]:
    """`column` starts with the text, case-insensitive: a range on lower(column), compared
    byte by byte as its index is (text_pattern_ops' operators on PostgreSQL; SQLite's BINARY)."""
    lowered = func.lower(column)
    if t.dialect == "postgresql":
        at_least, below = (lowered.op(op, is_comparison=True) for op in ("~>=~", "~<~"))
    else:
        at_least, below = lowered.__ge__, lowered.__lt__
    low = at_least(t.bind("folded"))
    return and_(low, below(t.bind("after"))) if t.after is not None else low


def _index_order(column, t: Text):
    """ORDER BY lower(column) as its index holds it (text_pattern_ops orders by ~<~)."""
    lowered = func.lower(column)
    return UnaryExpression(lowered, modifier=custom_op("USING ~<~")) \
        if t.dialect == "postgresql" else lowered


def _after_prefix(prefix: str) -> str | None:
    """The least text above every text starting with `prefix` in code point order (UTF-8's
    byte order): its last character moved up one (past the surrogates, which are not
    characters); None when there is none (only U+10FFFF characters)."""
    while prefix:
        following = ord(prefix[-1]) + 1
        if following == 0xD800:
            following = 0xE000
        if following <= 0x10FFFF:
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None
