"""Reading Walmart's error bodies and throttling headers (walmart-api.md §6)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any


def _first_error(body: Any) -> dict:
    """The first error of any of the three shapes Walmart uses."""
    if not isinstance(body, dict):
        return {}
    errors = body.get("errors", body.get("error"))
    if isinstance(errors, dict):  # {"errors": {"error": [...]}} or {"errors": {"error": {...}}}
        errors = errors.get("error", errors)
    if isinstance(errors, dict):
        return errors
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return {}


def _xml_value(text: str, tag: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{tag}>([^<]*)</(?:\w+:)?{tag}>", text)
    return match.group(1).strip() if match else None


def error_details(response, *, raw_text: bool = True
                  ) -> tuple[str | None, str | None, str | None, str | None]:
    """(code, field, description, info) from an error response, whatever its shape.
    `raw_text=False`: a body in neither of Walmart's envelopes (JSON, XML) gives no description
    (see body_excerpt)."""
    try:
        error = _first_error(response.json())
    except ValueError:
        text = response.text or ""
        if "<" in text:
            return (_xml_value(text, "code"), _xml_value(text, "field"),
                    _xml_value(text, "description"), _xml_value(text, "info"))
        return None, None, ((text.strip()[:500] or None) if raw_text else None), None
    description = error.get("description") or error.get("message")
    return (error.get("code"), error.get("field"), description, error.get("info"))


def body_excerpt(response, limit: int = 500) -> str | None:
    """The start of a response body as the remote host wrote it (for admins' eyes only)."""
    try:
        text = (response.text or "").strip()
    except (ValueError, LookupError):  # undecodable bytes: nothing readable to show
        return None
    return text[:limit] or None


def is_content_not_found(response) -> bool:
    code, *_ = error_details(response)
    return bool(code) and code.split(".")[0] == "CONTENT_NOT_FOUND"


# Every limit we call is per minute: a refill is never further away than that, whatever the
# header says (a far-future value would otherwise park work for hours).
REPLENISH_WINDOW = timedelta(seconds=60)


def _text_time(text: str) -> datetime | None:
    """ISO 8601, or an HTTP date (RFC 7231: `Sun, 06 Dec 2026 01:02:03 GMT`)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_replenish_time(headers: Mapping[str, str], now: datetime | None = None
                         ) -> datetime | None:
    """When Walmart refills the bucket: epoch ms, epoch s, seconds from now, ISO text or an
    HTTP date — at most REPLENISH_WINDOW from now."""
    value = None
    for name in ("X-Next-Replenishment-Time", "x-next-replenish-time"):
        value = headers.get(name)
        if value is None:  # plain dicts are case-sensitive; requests' headers are not
            value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
        if value is not None:
            break
    if value is None or str(value).strip() == "":
        return None
    now = now or datetime.now(UTC)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        moment = _text_time(text)
    else:
        if not math.isfinite(number):
            return None
        window = REPLENISH_WINDOW.total_seconds()
        if number > 1e9:  # epoch ms or s; capped before converting (no year-9999 overflow)
            epoch = number / 1000 if number > 1e11 else number
            moment = datetime.fromtimestamp(min(epoch, now.timestamp() + window), UTC)
        else:
            moment = now + timedelta(seconds=min(max(number, 0), window))
    return None if moment is None else min(moment, now + REPLENISH_WINDOW)
