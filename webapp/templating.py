"""Template filters, globals and context: registered on the app by init_templating()."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from flask_login import current_user

from webapp.formatting import (
    ago,
    audit_value,
    local_date,
    local_time,
    money,
    return_urgency,
    ship_by_state,
)
from webapp.models import OrderStatus, ReturnStatus, Role, TaskKind, TaskState
from webapp.row_cache import home_chart, order_row
from webapp.services.orders.queries import stamp
from webapp.services.shipping.correcting import correctable
from webapp.services.stores.health import banner
from webapp.services.sync.actions import waits_to_retry
from webapp.team_time import team_zone
from webapp.walmart.enums import RETURN_REASONS, cancellation_label, carrier_label


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, local_date=local_date, ago=ago,
                                 money=money, ship_by_state=ship_by_state,
                                 return_urgency=return_urgency, carrier_label=carrier_label,
                                 cancellation_label=cancellation_label)
    app.jinja_env.globals["return_reason"] = lambda code: RETURN_REASONS.get(code or "",
                                                                             code or "—")
    app.jinja_env.globals["timezone_name"] = lambda: current_app.config["TIMEZONE"]
    app.jinja_env.globals["order_row"] = order_row
    app.jinja_env.globals["audit_value"] = audit_value  # details in words, never JSON
    app.jinja_env.globals["home_chart"] = home_chart
    app.jinja_env.globals["live_stamp"] = stamp  # what a poll was rendered at
    app.jinja_env.globals["waits_to_retry"] = waits_to_retry  # Send now is offered
    app.jinja_env.globals["correctable"] = correctable  # Correct and send again is offered
    # Templates compare with members, never with the stored strings.
    app.jinja_env.globals.update(OrderStatus=OrderStatus, ReturnStatus=ReturnStatus, Role=Role,
                                 TaskKind=TaskKind, TaskState=TaskState)

    @app.context_processor
    def _team_time() -> dict:
        zone = team_zone()
        return {"team_zone": zone, "team_today": datetime.now(zone).date()}

    @app.context_processor
    def _banner() -> dict:
        if not current_user.is_authenticated:
            return {"attention": None}
        return {"attention": banner()}
