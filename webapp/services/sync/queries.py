"""What the Sync page lists: tasks by state, kind and store, the error queue first.

Tasks are never pruned (millions after a few years), so nothing here reads all of them: a page
is read from a cursor (no OFFSET), each state newest first through an index, and the cards
count a settled state only up to COUNT_CAP."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, Select, func, literal, select, union
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, SyncTask, TaskKind, TaskState
from webapp.numbers import row_id

PAGE_SIZE = 50
# Counting the settled states exactly would read every one of them on each render and poll;
# past this many a card says "10,000+" (never a wrong number). Error and Pending are exact:
# they are what people act on, and there are few of them whatever the history.
COUNT_CAP = 10_000
STATE_LABELS = {TaskState.ERROR: "Error", TaskState.PENDING: "Pending",
                TaskState.SYNCED: "Synced",
                TaskState.RESOLVED: "Fixed in Seller Center",
                TaskState.CORRECTED: "Corrected"}
# Errors first (they need a person), then what is on its way, then the settled ones; newest
# first within each group.
GROUPS: dict[str, tuple[TaskState, ...]] = {
    "error": (TaskState.ERROR,), "pending": (TaskState.PENDING,),
    "settled": (TaskState.SYNCED, TaskState.RESOLVED, TaskState.CORRECTED)}
SETTLED = frozenset(GROUPS["settled"])


@dataclass(frozen=True)
class TaskFilter:
    state: TaskState | None = None
    kind: TaskKind | None = None
    store_id: int | None = None
    q: str | None = None  # an order number, purchase order, RMA or SKU

    @classmethod
    def parse(cls, args) -> TaskFilter:
        state, kind, store = args.get("state", ""), args.get("kind", ""), args.get("store", "")
        q = args.get("q", "").strip()[:100]
        return cls(state=TaskState(state) if state in set(TaskState) else None,
                   kind=TaskKind(kind) if kind in set(TaskKind) else None,
                   store_id=row_id(store), q=q or None)

    def args(self, **changes) -> dict:
        values = {"state": self.state, "kind": self.kind, "store": self.store_id, "q": self.q}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class Cursor:
    """A place in the list: after (or before) this task of this group, e.g. "settled-1234"."""
    group: str
    task_id: int

    def __str__(self) -> str:
        return f"{self.group}-{self.task_id}"

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        group, _, number = (value or "").partition("-")
        task_id = row_id(number)
        return cls(group, task_id) if group in GROUPS and task_id else None


def _filter_only(column) -> ColumnElement:
    """The column as an expression no index serves. SQLite has no statistics to plan with: it
    takes the index matching the most columns by equality, and between equals it goes by the
    order the indexes were made. So where the filter's own index would tie with the narrow one
    (a search's target; a kind, rarer than a store), only the narrow one may be chosen."""
    return column + 0 if isinstance(column.type, Integer) else column + ""


def _order_tasks(q: str) -> list[int]:
    """The tasks of the orders whose number is `q` (a handful), through the order's index."""
    return list(db.session.scalars(select(SyncTask.id).where(SyncTask.order_id.in_(
        select(Order.id).where(Order.number == q)))))


def _matching(f: TaskFilter, state: TaskState, order_tasks: list[int]) -> list[Select]:
    """select(SyncTask.id) of the tasks in `state` the filters keep, one per index that finds
    them: a search finds by target, and the tasks of the order it names by id."""
    if f.q:  # the target's index, and the order's few ids, are the narrow ones
        also = [_filter_only(SyncTask.kind) == f.kind] if f.kind else []
        if f.store_id:
            also.append(_filter_only(SyncTask.store_id) == f.store_id)
        legs = [select(SyncTask.id).where(SyncTask.state == state, SyncTask.target == f.q,
                                          *also)]
        if order_tasks:
            legs.append(select(SyncTask.id).where(
                SyncTask.id.in_(order_tasks), _filter_only(SyncTask.state) == state, *also))
        return legs
    where = [SyncTask.state == state]
    if f.kind:  # a store holds most tasks of a kind; a kind is a fraction of a store's
        where.append(SyncTask.kind == f.kind)
    if f.store_id:
        store = _filter_only(SyncTask.store_id) if f.kind else SyncTask.store_id
        where.append(store == f.store_id)
    return [select(SyncTask.id).where(*where)]


@dataclass
class TaskPage:
    tasks: list[SyncTask]
    next_cursor: str | None
    prev_cursor: str | None


def page(f: TaskFilter, after: str | None = None, before: str | None = None) -> TaskPage:
    """One page in the list's order, by keyset: `after`/`before` are cursors (Cursor). A task
    that stays in its state is never repeated or skipped while others change state."""
    forward = before is None
    cursor = Cursor.parse(after if forward else before)
    groups = list(GROUPS) if forward else list(reversed(GROUPS))
    if cursor:
        groups = groups[groups.index(cursor.group):]
    order_tasks = _order_tasks(f.q) if f.q else []
    legs = []
    for group in groups:
        rank = list(GROUPS).index(group)
        for state in GROUPS[group]:
            if f.state and state != f.state:
                continue
            for leg in _matching(f, state, order_tasks):
                if cursor and group == cursor.group:
                    leg = leg.where(SyncTask.id < cursor.task_id if forward
                                    else SyncTask.id > cursor.task_id)
                # Each state's newest (or oldest, going back) few: one seek in its index.
                leg = leg.order_by(SyncTask.id.desc() if forward else SyncTask.id) \
                    .limit(PAGE_SIZE + 1).subquery()
                legs.append(select(literal(rank, Integer).label("rank"), leg.c.id))
    rows = []
    if legs:
        found = (union(*legs) if len(legs) > 1 else legs[0]).subquery()
        order = (found.c.rank, found.c.id.desc()) if forward else \
            (found.c.rank.desc(), found.c.id)
        rows = db.session.execute(select(found.c.rank, found.c.id).order_by(*order)
                                  .limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if not forward:
        rows.reverse()
    has_next = more if forward else True
    has_prev = (cursor is not None) if forward else more

    def at(row) -> str:  # the group the row was listed in (its state may have moved on since)
        rank, task_id = row
        return str(Cursor(list(GROUPS)[rank], task_id))

    return TaskPage(_load([task_id for _rank, task_id in rows]),
                    at(rows[-1]) if rows and has_next else None,
                    at(rows[0]) if rows and has_prev else None)


def _load(ids: list[int]) -> list[SyncTask]:
    """The tasks with these ids, in this order, with what their rows show."""
    if not ids:
        return []
    by_id = {t.id: t for t in db.session.scalars(
        select(SyncTask).where(SyncTask.id.in_(ids))
        .options(selectinload(SyncTask.order), selectinload(SyncTask.store),
                 selectinload(SyncTask.resolved_by)))}
    return [by_id[i] for i in ids if i in by_id]


@dataclass(frozen=True)
class StateCounts:
    """Tasks per state; a state in `capped` has more than COUNT_CAP (its count says COUNT_CAP)."""
    counts: dict[str, int]
    capped: frozenset[str] = frozenset()

    def get(self, state: str, default: int = 0) -> int:
        return self.counts.get(state, default)

    def at_least(self, state: str | None = None) -> bool:
        """True when the count of this state (None: of all) is only a floor."""
        return bool(self.capped.intersection([state] if state else self.counts))

    def shown(self, state: str | None = None) -> str:
        """One state's count as a card shows it, or every state's (state None)."""
        total = self.get(state) if state else sum(self.counts.values())
        return f"{total}+" if self.at_least(state) else str(total)


def state_counts(f: TaskFilter) -> StateCounts:
    """Tasks per state for the kind, store and search filters (the cards), in one query."""
    order_tasks = _order_tasks(f.q) if f.q else []
    columns = []
    for state in STATE_LABELS:
        legs = _matching(f, state, order_tasks)
        if state in SETTLED:  # (a LIMIT inside a UNION must be a subquery's, for SQLite)
            legs = [select(leg.limit(COUNT_CAP + 1).subquery().c.id) for leg in legs]
        found = (union(*legs) if len(legs) > 1 else legs[0]).subquery()
        columns.append(select(func.count()).select_from(found).scalar_subquery())
    counts = dict(zip(STATE_LABELS, db.session.execute(select(*columns)).one(), strict=True))
    capped = frozenset(s for s, n in counts.items() if s in SETTLED and n > COUNT_CAP)
    return StateCounts({s: min(n, COUNT_CAP) if s in capped else n for s, n in counts.items()},
                       capped)
