"""A Walmart Marketplace simulator: an independent Flask app (imports nothing from webapp).

It reproduces the parts of Walmart's API that Orderdeck uses, with Walmart's envelopes, rules,
rate limits and faults, keeps its state in its own SQLite file, and is controlled with
`python -m simulator …` (see docs/walmart.md).
"""

from __future__ import annotations

import os

from flask import Flask


def create_app(db_path: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SIM_DB"] = db_path or os.environ.get("SIMULATOR_DB", "instance/simulator.sqlite")
    from simulator.api import bp as api_bp
    from simulator.inspect import bp as inspect_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(inspect_bp)
    return app
