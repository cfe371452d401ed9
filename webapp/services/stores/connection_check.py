"""Test connection: take a token and make one read, and say in plain words what worked.

Used by the store form's "Test connection" button and `flask --app wsgi stores check NAME`.
It never shows the secret, and it reaches only an address a store may use (the rule that saving
a store and every Walmart call follow: `stores.address_refusal`), with a fresh token, so a
cached one cannot hide
credentials Walmart now refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from webapp.extensions import db
from webapp.models import Store, User
from webapp.models.base import utcnow
from webapp.services import audit
from webapp.services.errors import ActionRefused
from webapp.services.stores import credentials
from webapp.services.stores.editing import (
    StoreInput,
    address_refusal,
    clean_base_url,
    client_secret,
)
from webapp.services.unit_of_work import action
from webapp.walmart import (
    AuthenticationError,
    DataError,
    MalformedResponse,
    TransientError,
    WalmartClient,
    WalmartError,
)

KEYS_ADVICE = ("Copy the Client ID and Client Secret again from Seller Center (Settings → API "
               "Key Management): production keys for Walmart production, sandbox keys for the "
               "sandbox.")
PERMISSION_ADVICE = ("In Seller Center's API Key Management, give this key access to Orders, "
                     "Returns and Inventory (or use the account's main key).")
REACH_ADVICE = ("Check the base URL and that this server can reach it (firewall, proxy), then "
                "try again.")


@dataclass
class Step:
    label: str
    ok: bool
    detail: str = ""


@dataclass
class CheckResult:
    steps: list[Step] = field(default_factory=list)
    advice: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def _said(exc: WalmartError) -> str:
    """The summary and, as only admins run this check, the remote host's or network library's
    own words (exc.detail) that pages for everyone leave out."""
    return f"{exc} — {exc.detail}" if exc.detail else str(exc)


def _refusal(exc: AuthenticationError) -> tuple[str, str]:
    """Walmart's refusal of the keys, in plain words, and what to do about it."""
    if exc.status == 403:
        return (f"the keys are valid but lack a permission for this ({_said(exc)})",
                PERMISSION_ADVICE)
    return _said(exc), KEYS_ADVICE  # "Walmart refused the client id/secret (400): …"


def check(base_url: str, client_id: str, secret: str) -> CheckResult:
    """A token, then one read: how many orders were created in the last 7 days."""
    config = current_app.config
    client = WalmartClient(base_url, client_id, secret,
                           connect_timeout=config["WALMART_CONNECT_TIMEOUT"],
                           read_timeout=min(config["WALMART_READ_TIMEOUT"], 15.0))
    result = CheckResult()
    try:
        client.check_token()
    except AuthenticationError as exc:
        detail, result.advice = _refusal(exc)
        result.steps.append(Step("Walmart accepts the client ID and secret", False, detail))
        return result
    except (TransientError, MalformedResponse) as exc:
        result.steps.append(Step(f"Reach Walmart at {base_url}", False, _said(exc)))
        result.advice = REACH_ADVICE
        return result
    except WalmartError as exc:
        result.steps.append(Step("Walmart accepts the client ID and secret", False, _said(exc)))
        result.advice = KEYS_ADVICE
        return result
    result.steps.append(Step("Walmart accepts the client ID and secret", True,
                             "A token was issued."))
    try:
        page = client.orders(createdStartDate=utcnow() - timedelta(days=7), limit=1)
    except AuthenticationError as exc:
        detail, result.advice = _refusal(exc)
        result.steps.append(Step("Read orders", False, detail))
    except DataError as exc:
        result.steps.append(Step("Read orders", False, f"Walmart refused the read: {exc}"))
        result.advice = "Walmart's message above names what it refused."
    except WalmartError as exc:
        result.steps.append(Step("Read orders", False, _said(exc)))
        result.advice = REACH_ADVICE
    else:
        count = page.total_count or 0
        result.steps.append(Step("Read orders", True,
                                 f"{count} order(s) created in the last 7 days."))
    return result


def _recorded(result: CheckResult, store: Store | None, name: str, by: User | None
              ) -> CheckResult:
    """Who tested which credentials, and whether they worked (the audit log keeps it)."""
    audit.record("store.check", user=by, store_id=store.id if store else None, subject=name,
                 ok=result.ok, failed=[s.label for s in result.steps if not s.ok])
    db.session.commit()
    return result


@action
def check_store(store: Store, *, by: User | None) -> CheckResult:
    """Test a saved store's connection (only at an address a store may use)."""
    refusal = address_refusal(store.environment, store.base_url)
    if refusal:
        result = CheckResult([Step(f"Use the address {store.base_url}", False, refusal)],
                             "Correct the base URL on the store form (leave it empty for the "
                             "environment's own address).")
    else:
        result = check(store.base_url, store.client_id, client_secret(store))
    _recorded(result, store, store.name, by)
    if result.ok and store.credentials_problem:  # Walmart takes them again: updates resume
        credentials.resume_updates(store.id)
    return result


def check_input(data: StoreInput, store: Store | None, *, by: User | None) -> CheckResult:
    """Test the values of the store form before they are saved (an empty secret on edit: the
    saved one). Refuses (ActionRefused) what saving would refuse about the address."""
    base_url = clean_base_url(data)
    client_id = data.client_id.strip()
    secret = (data.client_secret or "").strip() or (client_secret(store) if store else "")
    if not client_id:
        raise ActionRefused("Enter the Walmart client id.", field="client_id")
    if not secret:
        raise ActionRefused("Enter the Walmart client secret.", field="client_secret")
    return _recorded(check(base_url, client_id, secret), store, data.name.strip(), by)
