"""Adding and editing stores (Walmart seller accounts)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from webapp import secrets_box
from webapp.extensions import db
from webapp.models import Environment, Store, User
from webapp.models.stores import WALMART_BASE_URLS
from webapp.numbers import MAX_CALLS, whole
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.stock import default_node, ship_nodes
from webapp.services.stores import credentials
from webapp.services.unit_of_work import action
from webapp.walmart.enums import RATE_LIMITS


@dataclass
class StoreInput:
    name: str
    environment: Environment
    base_url: str | None
    client_id: str
    client_secret: str | None  # None or "" on edit: keep the stored one
    import_enabled: bool
    rate_limits: str | dict | None = None  # "acknowledge=120, shipping=120"
    default_ship_node: str | None = None  # Walmart's id of the store's default ship node
    # Read-only: import and show, send nothing. Turning it off is store_mode.set_read_write,
    # a confirmed step of its own; update_store only ever turns it on.
    read_only: bool = False
    # Packing slips: the name printed on them (None or "": none) and whether prices show.
    slip_name: str | None = None
    slip_prices: bool = False


def default_base_url(environment: Environment) -> str | None:
    """Walmart's host for the environment; the simulator's address when it is running."""
    if environment == Environment.SIMULATOR:
        return current_app.config.get("SIMULATOR_URL")
    return WALMART_BASE_URLS[environment]


def _host(parts) -> str:
    """host[:port] as compared with the allowed hosts (the scheme's default port left out)."""
    port = parts.port
    host = (parts.hostname or "").lower()
    return host if port in (None, 443 if parts.scheme == "https" else 80) else f"{host}:{port}"


def address_refusal(environment: Environment, url: str) -> str | None:
    """Why a store may not use this address, or None. The client id and secret go to it, so
    it is never free text: sandbox and production use Walmart's own host (or one an operator
    allowed with ORDERDECK_WALMART_EXTRA_HOSTS, e.g. an egress proxy); a simulator store uses
    the configured simulator's address, and nothing else."""
    try:
        parts = urlsplit(url)
        _host(parts)  # a port that is not a number raises here
    except ValueError:
        return "The base URL must look like https://host[:port]."
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or \
            parts.fragment or parts.username or parts.password:
        return "The base URL must look like https://host[:port]."
    if environment == Environment.SIMULATOR:
        simulator = (current_app.config.get("SIMULATOR_URL") or "").rstrip("/")
        if not simulator:
            return "The built-in simulator is not running here: a simulator store can only " \
                   "use the simulator's own address."
        if url.rstrip("/") != simulator:
            return f"A simulator store uses the built-in simulator's address, {simulator}."
        return None
    if parts.scheme != "https":
        return "Walmart's API is only served over https."
    walmart = WALMART_BASE_URLS[environment]
    allowed = {_host(urlsplit(walmart)), *current_app.config.get("WALMART_EXTRA_HOSTS", [])}
    if _host(parts) not in allowed:
        return (f"A {environment.label} store uses Walmart's address, {walmart} (or a host an "
                "operator allowed with ORDERDECK_WALMART_EXTRA_HOSTS).")
    return None


def clean_base_url(data: StoreInput) -> str:
    url = (data.base_url or "").strip().rstrip("/") or default_base_url(data.environment)
    if not url:
        raise ActionRefused("The built-in simulator is not running: enter its base URL.",
                            field="base_url")
    refusal = address_refusal(data.environment, url)
    if refusal:
        raise ActionRefused(refusal, field="base_url")
    return url


def parse_rate_limits(value: str | dict | None) -> dict[str, int]:
    """'acknowledge=120, shipping=120' → {'acknowledge': 120, 'shipping': 120}."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [item.partition("=")[::2] for item in (value or "").replace(";", ",").split(",")
                 if item.strip()]
    limits = {}
    for name, number in pairs:
        name, number = str(name).strip(), str(number).strip()
        if name not in RATE_LIMITS:
            raise ActionRefused(f"Unknown Walmart call {name!r} in the rate limits; use "
                                f"{', '.join(sorted(RATE_LIMITS))}.", field="rate_limits")
        calls = whole(number, MAX_CALLS, minimum=1)
        if calls is None:
            raise ActionRefused(f"The rate limit for {name} must be a positive number of calls "
                                f"per minute, at most {MAX_CALLS:,}.", field="rate_limits")
        limits[name] = calls
    return limits


def format_rate_limits(limits: dict[str, int] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((limits or {}).items()))


def _check_name(name: str, store_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise ActionRefused("Give the store a name.", field="name")
    clash = db.session.scalar(select(Store).where(Store.name == name))
    if clash and clash.id != store_id:
        raise ActionRefused(f"A store named {name!r} already exists.", field="name")
    return name


def _slip_name(value: str | None) -> str | None:
    name = " ".join((value or "").split())
    if len(name) > 80:
        raise ActionRefused("The name on slips is at most 80 characters.", field="slip_name")
    return name or None


@action
def create_store(data: StoreInput, *, by: User | None) -> Store:
    """Add a store; the client secret is encrypted before it reaches the database."""
    if not (data.client_secret or "").strip():
        raise ActionRefused("Enter the Walmart client secret.", field="client_secret")
    store = Store(
        name=_check_name(data.name, None),
        environment=data.environment,
        base_url=clean_base_url(data),
        client_id=data.client_id.strip(),
        client_secret_encrypted=secrets_box.encrypt(data.client_secret.strip()),
        import_enabled=data.import_enabled,
        rate_limits=parse_rate_limits(data.rate_limits),
        default_ship_node=ship_nodes.clean_node(data.default_ship_node),
        read_only=data.read_only,
        slip_name=_slip_name(data.slip_name),
        slip_prices=data.slip_prices,
    )
    if not store.client_id:
        raise ActionRefused("Enter the Walmart client id.", field="client_id")
    db.session.add(store)
    db.session.flush()
    audit.record("store.create", user=by, store_id=store.id, subject=store.name,
                 environment=store.environment, base_url=store.base_url,
                 read_only=store.read_only)
    db.session.commit()
    return store


CREDENTIAL_FIELDS = {"client_id", "client_secret", "base_url", "environment"}


@action
def update_store(store: Store, data: StoreInput, *, by: User | None) -> Store:
    """Edit a store; an empty secret keeps the stored one. Changing what Walmart checks (client
    id, secret, environment) clears a credentials problem and wakes the waiting updates."""
    name = _check_name(data.name, store.id)
    base_url = clean_base_url(data)
    client_id = data.client_id.strip()
    if not client_id:
        raise ActionRefused("Enter the Walmart client id.", field="client_id")
    limits = parse_rate_limits(data.rate_limits)
    node = ship_nodes.clean_node(data.default_ship_node)
    changed = [f for f, old, new in (
        ("default_ship_node", store.default_ship_node, node),
        ("rate_limits", store.rate_limits or {}, limits),
        ("name", store.name, name), ("environment", store.environment, data.environment),
        ("base_url", store.base_url, base_url), ("client_id", store.client_id, client_id),
        ("import_enabled", store.import_enabled, data.import_enabled),
        ("slip_name", store.slip_name, _slip_name(data.slip_name)),
        ("slip_prices", store.slip_prices, data.slip_prices)) if old != new]
    store.name, store.environment, store.base_url = name, data.environment, base_url
    store.client_id, store.import_enabled = client_id, data.import_enabled
    store.rate_limits = limits
    store.slip_name, store.slip_prices = _slip_name(data.slip_name), data.slip_prices
    if data.read_only and not store.read_only:
        store.read_only = True
        changed.append("read_only")
    default_node.change_default(store, node)  # (stock moves with it)
    if (data.client_secret or "").strip():
        store.client_secret_encrypted = secrets_box.encrypt(data.client_secret.strip())
        changed.append("client_secret")
    if changed:
        audit.record("store.update", user=by, store_id=store.id, subject=store.name,
                     changed=changed)
    db.session.commit()
    if store.credentials_problem and CREDENTIAL_FIELDS & set(changed):
        # New credentials (or the right environment): the updates that waited for them go
        # out now; if Walmart refuses these too, the store shows it again.
        credentials.resume_updates(store.id)
    return store


@action
def set_default_ship_node(store: Store, value: str | None, *, by: User | None,
                          actor: str | None = None) -> Store:
    """Name the store's default ship node (None or "" clears it)."""
    node = ship_nodes.clean_node(value)
    if node != store.default_ship_node:
        default_node.change_default(store, node)  # (stock moves with it)
        audit.record("store.update", user=by, actor=actor, store_id=store.id,
                     subject=store.name, changed=["default_ship_node"])
    db.session.commit()
    return store


@action
def set_slip_settings(store: Store, *, name: str | None = None, prices: bool | None = None,
                      by: User | None, actor: str | None = None) -> Store:
    """Change what packing slips show for this store: the name on them ("" clears it) and
    whether prices show (None: left as they are)."""
    changed = []
    if name is not None and _slip_name(name) != store.slip_name:
        store.slip_name = _slip_name(name)
        changed.append("slip_name")
    if prices is not None and prices != store.slip_prices:
        store.slip_prices = prices
        changed.append("slip_prices")
    if changed:
        audit.record("store.update", user=by, actor=actor, store_id=store.id,
                     subject=store.name, changed=changed)
    db.session.commit()
    return store


def client_secret(store: Store) -> str:
    """The plain secret, for the Walmart client only."""
    return secrets_box.decrypt(store.client_secret_encrypted)
