"""Small helpers for htmx requests and responses."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, make_response, render_template, request

HX_REQUEST = "HX-Request"
HX_TRIGGER = "HX-Trigger"
HX_REDIRECT = "HX-Redirect"
HX_HISTORY_RESTORE = "HX-History-Restore-Request"
HX_RETARGET = "HX-Retarget"
HX_RESWAP = "HX-Reswap"
STOP_POLLING = 286  # htmx 2 stops a polling element on this status


def is_htmx() -> bool:
    """An htmx request that swaps a fragment. Not a boosted link, and not a history restore:
    after a history cache miss htmx 2 asks for the page with `HX-Request` and
    `HX-History-Restore-Request` and swaps what it gets in place of the whole body, so Back
    needs the full page there."""
    headers = request.headers
    return headers.get(HX_REQUEST) == "true" and not headers.get("HX-Boosted") and \
        headers.get(HX_HISTORY_RESTORE) != "true"


def render_block(template: str, block: str, **context: Any) -> str:
    """Render one `{% block %}` of a page template as a fragment."""
    app = current_app
    app.update_template_context(context)
    tmpl = app.jinja_env.get_or_select_template(template)
    ctx = tmpl.new_context(context)
    return "".join(tmpl.blocks[block](ctx))


def render_page(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """The full page, or only `block` for an htmx request (same URL, `Vary: HX-Request`)."""
    body = render_block(template, block, **context) if is_htmx() else render_template(
        template, **context)
    return make_response(body, status)


def hx_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Ask the page to fire `event` (toasts, counters)."""
    response.headers[HX_TRIGGER] = json.dumps({event: detail if detail is not None else True})
    return response


def hx_retarget(response: Response, target: str = "#main",
                swap: str = "innerHTML") -> Response:
    """Swap the response into `target` instead of the element that asked (a form that,
    once done, shows the whole page as it is now)."""
    response.headers[HX_RETARGET] = target
    response.headers[HX_RESWAP] = swap
    return response


def hx_redirect(location: str) -> Response:
    """A redirect that works for htmx (HX-Redirect) and for plain requests (303)."""
    if is_htmx():
        response = make_response("", 204)
        response.headers[HX_REDIRECT] = location
        return response
    response = make_response("", 303)
    response.headers["Location"] = location
    return response


def stop_polling(response: Response) -> Response:
    response.status_code = STOP_POLLING
    return response
