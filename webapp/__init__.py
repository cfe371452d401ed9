"""Orderdeck: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, policy, blueprints, errors, CLI — in that order.

    The factory imports its parts here, as Flask's application-factory pattern does: importing
    `webapp.models` or `webapp.walmart` (the migrations, the simulator's contract tests) then
    loads no view, form or service."""
    from config import load_config

    settings = load_config(**(config or {}))
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"],
                template_folder="../templates", static_folder="../static")
    app.config.from_mapping(settings)
    from webapp.numbers import IdConverter
    app.url_map.converters["int"] = IdConverter  # before any route: ids bounded everywhere
    init_logs(app)
    init_extensions(app)
    init_proxy(app)
    from webapp.security import init_security
    init_security(app)
    from webapp.views import register_blueprints
    register_blueprints(app)
    from webapp.errors import init_errors
    init_errors(app)
    from webapp.templating import init_templating
    init_templating(app)
    from webapp.commands import init_cli
    init_cli(app)
    app.add_url_rule("/healthz", "health", lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    return app


def init_logs(app: Flask) -> None:
    import logging

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic announces each of its plugins at INFO whenever Flask-Migrate loads it, i.e.
    # before every `flask --app wsgi …` command's own output: seven lines of nothing.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # python-barcode says at import that Pillow is missing: we draw SVG only, so it is noise.
    logging.getLogger("pyBarcode").setLevel(logging.WARNING)


def init_extensions(app: Flask) -> None:
    from webapp.database import init_database
    from webapp.extensions import csrf, login_manager

    init_database(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from webapp.auth_loader import init_login
    init_login(app)


def init_proxy(app: Flask) -> None:
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
