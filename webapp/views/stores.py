"""Stores: Walmart seller accounts (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.extensions import db
from webapp.forms import StoreForm
from webapp.htmx import is_htmx, render_page, stop_polling
from webapp.models import Environment, Role, Store
from webapp.security import require_role
from webapp.services.errors import ActionRefused
from webapp.services.orders import import_requests
from webapp.services.stores import connection_check, webhooks
from webapp.services.stores import editing as store_service
from webapp.services.stores import health as store_health
from webapp.services.stores import mode as store_mode

bp = Blueprint("stores", __name__, url_prefix="/stores")


def _store_or_404(store_id: int) -> Store:
    return db.session.get(Store, store_id) or abort(404)


def _input(form: StoreForm) -> store_service.StoreInput:
    return store_service.StoreInput(
        name=form.name.data or "", environment=Environment(form.environment.data),
        base_url=form.base_url.data, client_id=form.client_id.data or "",
        client_secret=form.client_secret.data, import_enabled=form.import_enabled.data,
        rate_limits=form.rate_limits.data, read_only=form.read_only.data,
        default_ship_node=form.default_ship_node.data, slip_name=form.slip_name.data,
        slip_prices=form.slip_prices.data)


def _refused(form: StoreForm, exc: ActionRefused) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _rows(status: int = 200):
    health = store_health.all_health()
    running = any(h.running for h in health)
    response = render_page("stores/index.html", "rows", status=status, health=health,
                           running=running)
    if is_htmx() and request.args.get("poll") and not running:
        stop_polling(response)
    return response


@bp.get("/")
def index():
    """Every store with its import health; the rows refresh while an import runs."""
    return _rows()


@bp.post("/<int:store_id>/import")
@require_role(Role.OPERATOR)
def import_now(store_id: int):
    """Start an import of this store now (a job; the page shows its progress)."""
    store = _store_or_404(store_id)
    import_requests.request_import(store, by=current_user)
    if is_htmx():
        return _rows()
    flash(f"Import of {store.name} started.", "success")
    return redirect(url_for("stores.index"))


def _checked(form: StoreForm, store: Store | None):
    """Test connection with the form's values (nothing saved): the form with the result."""
    result = None
    if form.validate_on_submit():
        try:
            result = connection_check.check_input(_input(form), store, by=current_user)
        except ActionRefused as exc:
            _refused(form, exc)
    return render_page("stores/form.html", "connection", status=422 if form.errors else 200,
                       form=form, store=store, check=result)


@bp.route("/new", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def new():
    """Add a store (or test the connection its values give, without saving)."""
    form = StoreForm()
    if request.form.get("action") == "check":
        return _checked(form, None)
    if form.validate_on_submit():
        try:
            store = store_service.create_store(_input(form), by=current_user)
        except ActionRefused as exc:
            _refused(form, exc)
        else:
            flash(f"Store {store.name} added.", "success")
            return redirect(url_for("stores.index"))
    return render_template("stores/form.html", form=form, store=None), 422 if form.errors else 200


@bp.route("/<int:store_id>/edit", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def edit(store_id: int):
    """Edit a store (or test the connection the form's values give); the client secret is
    write-only. Unticking Read-only leads to its confirmation page."""
    store = _store_or_404(store_id)
    form = StoreForm(obj=store)
    if request.form.get("action") == "check":
        return _checked(form, store)
    if not form.is_submitted():
        form.rate_limits.data = store_service.format_rate_limits(store.rate_limits)
    if form.validate_on_submit():
        try:
            store_service.update_store(store, _input(form), by=current_user)
        except ActionRefused as exc:
            _refused(form, exc)
        else:
            if store.read_only and not form.read_only.data:
                flash(f"Store {store.name} saved; it stays read-only until you confirm the "
                      "switch below.", "success")
                return redirect(url_for("stores.read_write", store_id=store.id))
            flash(f"Store {store.name} saved.", "success")
            return redirect(url_for("stores.index"))
    return render_template("stores/form.html", form=form, store=store,
                           instant=webhooks.state(store)), 422 if form.errors else 200


@bp.post("/<int:store_id>/check")
@require_role(Role.ADMIN)
def check(store_id: int):
    """Test a saved store's connection: a token and one read, explained."""
    store = _store_or_404(store_id)
    result = connection_check.check_store(store, by=current_user)
    return render_page("stores/form.html", "connection", form=StoreForm(obj=store),
                       store=store, check=result)


@bp.route("/<int:store_id>/read-write", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def read_write(store_id: int):
    """Confirm, then switch a read-only store to read-write (waiting orders read back)."""
    store = _store_or_404(store_id)
    if request.method == "POST":
        queued = store_mode.set_read_write(store, by=current_user)
        flash(f"{store.name} is read-write: Orderdeck now sends updates to Walmart. "
              f"{queued} waiting order(s) are read back and acknowledged where Walmart still "
              "shows them Created; no stock is pushed until someone changes it.", "success")
        return redirect(url_for("stores.index"))
    return render_template("stores/read_write.html", store=store,
                           waiting=len(store_mode.waiting_orders(store)))


@bp.post("/<int:store_id>/read-only")
@require_role(Role.ADMIN)
def read_only(store_id: int):
    """Make a store read-only: nothing more is sent to Walmart for it."""
    store = _store_or_404(store_id)
    store_mode.set_read_only(store, by=current_user)
    flash(f"{store.name} is read-only: Orderdeck sends nothing to Walmart for it.", "success")
    return redirect(url_for("stores.index"))


# -- Receive orders instantly (Walmart's order notifications) ------------------------------

def _instant(store_id: int, service, done: str):
    """Run one subscription action; its outcome (or Walmart's refusal) on the store's page."""
    store = _store_or_404(store_id)
    try:
        service(store, by=current_user)
    except ActionRefused as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("stores.edit", store_id=store.id, _anchor="instant"))


@bp.post("/<int:store_id>/instant/subscribe")
@require_role(Role.ADMIN)
def instant_subscribe(store_id: int):
    """Subscribe the store to Walmart's order notifications (or renew its subscription)."""
    return _instant(store_id, webhooks.subscribe, "Walmart now tells Orderdeck of new orders, "
                    "cancellation requests and auto-cancels as they happen.")


@bp.post("/<int:store_id>/instant/test")
@require_role(Role.ADMIN)
def instant_test(store_id: int):
    """Ask Walmart to send the store's endpoint a test notification now."""
    return _instant(store_id, webhooks.test, "Walmart's test notification reached Orderdeck.")


@bp.post("/<int:store_id>/instant/pause")
@require_role(Role.ADMIN)
def instant_pause(store_id: int):
    """Pause the notifications (the scheduled import goes on)."""
    return _instant(store_id, webhooks.pause, "Notifications paused: orders arrive with the "
                    "scheduled import.")


@bp.post("/<int:store_id>/instant/resume")
@require_role(Role.ADMIN)
def instant_resume(store_id: int):
    """Resume paused notifications."""
    return _instant(store_id, webhooks.resume, "Notifications resumed.")


@bp.post("/<int:store_id>/instant/unsubscribe")
@require_role(Role.ADMIN)
def instant_unsubscribe(store_id: int):
    """Delete the subscription at Walmart; orders arrive with the scheduled import."""
    return _instant(store_id, webhooks.unsubscribe, "Subscription deleted: orders arrive with "
                    "the scheduled import.")
