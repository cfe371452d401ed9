"""The Sync page: every Walmart update, the failed ones first, with Retry and Fixed in Seller
Center."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.forms import ResolveForm
from webapp.htmx import hx_redirect, is_htmx, render_page, stop_polling
from webapp.models import Role, SyncTask, TaskKind, TaskState
from webapp.numbers import row_id
from webapp.security import require_role, safe_next
from webapp.services.errors import ActionRefused
from webapp.services.stores import lookup as store_lookup
from webapp.services.sync import actions as sync_actions
from webapp.services.sync import queries as sync_queries
from webapp.services.sync.explain import explain, summary, target, waiting

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.get("/")
def index():
    """Tasks by state, kind and store; the list polls while any shown task is on its way."""
    f = sync_queries.TaskFilter.parse(request.args)
    at = {key: str(cursor) for key in ("after", "before")
          if (cursor := sync_queries.Cursor.parse(request.args.get(key)))}
    result = sync_queries.page(f, **at)
    in_flight = any(t.state == TaskState.PENDING for t in result.tasks)
    response = render_page(
        "sync/index.html", "results", f=f, result=result, counts=sync_queries.state_counts(f),
        count_cap_note=f"More than {sync_queries.COUNT_CAP}: counted up to there",
        state_labels=sync_queries.STATE_LABELS, kinds=list(TaskKind), explain=explain,
        summary=summary, waiting=waiting, target=target,
        stores=store_lookup.by_name(),
        resolve_form=ResolveForm(), in_flight=in_flight, paged=bool(at),
        poll_url=url_for("sync.index", **f.args(**at), poll=1))
    if is_htmx() and request.args.get("poll") and not in_flight:
        stop_polling(response)
    return response


def _back(default: str | None = None):
    target = safe_next(request.form.get("next") or default or url_for("sync.index"))
    return hx_redirect(target)


@bp.post("/tasks/<int:task_id>/retry")
@require_role(Role.OPERATOR)
def retry(task_id: int):
    """Retry one failed update (from the Sync page, an order or a return)."""
    task = db.session.get(SyncTask, task_id) or abort(404)
    try:
        sync_actions.retry_task(task.id, by=current_user)
        flash("Sent again to Walmart.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back(url_for("orders.show", order_id=task.order_id) if task.order_id else None)


@bp.post("/retry")
@require_role(Role.OPERATOR)
def retry_selected():
    """Retry every selected failed update."""
    ids = [n for x in request.form.getlist("task")[:500] if (n := row_id(x)) is not None]
    try:
        tasks, skipped = sync_actions.retry_tasks(ids, by=current_user)
        text = f"Sent {len(tasks)} update{'s' if len(tasks) != 1 else ''} again to Walmart."
        if skipped:
            text += f" {skipped} had already left the error queue."
        flash(text, "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back()


@bp.post("/tasks/<int:task_id>/send-now")
@require_role(Role.OPERATOR)
def send_now(task_id: int):
    """Send now an update waiting out its retry delay (from the Sync page or an order)."""
    task = db.session.get(SyncTask, task_id) or abort(404)
    try:
        if sync_actions.send_now(task.id, by=current_user):
            flash("Sending it to Walmart now.", "success")
        else:
            flash("It is already on its way to Walmart.", "info")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back(url_for("orders.show", order_id=task.order_id) if task.order_id else None)


@bp.post("/tasks/<int:task_id>/resolve")
@require_role(Role.OPERATOR)
def resolve(task_id: int):
    """Fixed in Seller Center: close a failed update by hand, with a note."""
    task = db.session.get(SyncTask, task_id) or abort(404)
    form = ResolveForm()
    if not form.validate():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back()
    try:
        sync_actions.resolve_task(task.id, form.note.data, by=current_user)
        flash("Marked as fixed in Seller Center.", "success")
    except ActionRefused as exc:
        flash(str(exc), "error")
    return _back()
