"""What can go wrong talking to Walmart, as our own exceptions."""

from __future__ import annotations

from datetime import datetime


class WalmartError(Exception):
    """Base of every error the client raises.

    str(error) is a short summary fit for every signed-in person; `detail` holds what a remote
    host or the network library said in its own words (a proxy's plain-text page, a socket
    error with our URL): shown to admins only, as it may name internal hosts and paths.
    """

    detail: str | None = None


class TransientError(WalmartError):
    """5xx, timeout, connection error or malformed JSON: retry later.

    `ambiguous` is True when the request may have reached Walmart (a read timeout, a connection
    dropped after sending): read the order back before sending it again.
    """

    def __init__(self, message: str, *, status: int | None = None, ambiguous: bool = False,
                 detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.ambiguous = ambiguous
        self.detail = detail


class AddressRefused(WalmartError):
    """The store's address is not one a store may use (Walmart's hosts, the configured
    simulator, hosts an operator allowed): nothing was sent, the secret included."""


class RateLimited(WalmartError):
    """429: wait until `retry_at` (from Walmart's replenish header, or a safe default)."""

    def __init__(self, message: str, *, retry_at: datetime, token_count: int | None = None):
        super().__init__(message)
        self.retry_at = retry_at
        self.token_count = token_count


class AuthenticationError(WalmartError):
    """Walmart refused the credentials (400/401/403 on the token) or the token (401/403 on a
    business call, after one refresh). `on_token`: the token request itself was refused."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 on_token: bool = False, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.on_token = on_token
        self.detail = detail

    @property
    def problem(self) -> str:
        """"forbidden" (403: the credentials lack a permission) or "refused" (not accepted)."""
        return "forbidden" if self.status == 403 else "refused"


class DataError(WalmartError):
    """A 4xx that retrying will not fix; carries Walmart's code, field and description."""

    def __init__(self, *, status: int, code: str | None, field: str | None,
                 description: str | None, info: str | None = None):
        super().__init__(f"{code or status}: {description or info or 'request refused'}"
                         + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.field = field
        self.description = description
        self.info = info


class MalformedResponse(TransientError):
    """Walmart answered 200 with a body we cannot read (bad JSON, a missing required field).

    Ambiguous: after an action, Walmart may well have applied it.
    """

    def __init__(self, message: str, *, field: str | None = None, detail: str | None = None):
        super().__init__(message, status=200, ambiguous=True, detail=detail)
        self.field = field
