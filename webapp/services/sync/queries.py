"""What the Sync page lists: tasks by state, kind and store, the error queue first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Order, SyncTask, TaskKind, TaskState
from webapp.numbers import row_id

PAGE_SIZE = 50
STATE_LABELS = {TaskState.ERROR: "Error", TaskState.PENDING: "Pending",
                TaskState.SYNCED: "Synced",
                TaskState.RESOLVED: "Fixed in Seller Center",
                TaskState.CORRECTED: "Corrected"}
# Errors first (they need a person), then what is on its way, then the settled ones.
_RANK = case((SyncTask.state == TaskState.ERROR, 0),
             (SyncTask.state == TaskState.PENDING, 1), else_=2)


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


def _query(f: TaskFilter, with_state: bool = True) -> Select:
    query = select(SyncTask)
    if with_state and f.state:
        query = query.where(SyncTask.state == f.state)
    if f.kind:
        query = query.where(SyncTask.kind == f.kind)
    if f.store_id:
        query = query.where(SyncTask.store_id == f.store_id)
    if f.q:
        numbers = select(Order.id).where(Order.number == f.q)
        query = query.where((SyncTask.target == f.q) | SyncTask.order_id.in_(numbers))
    return query


@dataclass
class TaskPage:
    tasks: list[SyncTask]
    page: int
    has_next: bool


def page(f: TaskFilter, number: int = 1) -> TaskPage:
    number = max(number, 1)
    rows = db.session.scalars(
        _query(f).options(selectinload(SyncTask.order), selectinload(SyncTask.store),
                          selectinload(SyncTask.resolved_by))
        .order_by(_RANK, SyncTask.id.desc())
        .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return TaskPage(list(rows[:PAGE_SIZE]), number, len(rows) > PAGE_SIZE)


def state_counts(f: TaskFilter) -> dict[str, int]:
    """Tasks per state for the kind, store and search filters (the cards)."""
    query = _query(f, with_state=False).with_only_columns(SyncTask.state, func.count()) \
        .group_by(SyncTask.state)
    return {state: count for state, count in db.session.execute(query).all()}
