"""/_sim/: what the simulator received and holds (read-only pages and JSON)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, jsonify, render_template_string, request

from simulator import control, orders
from simulator.db import connect, get_setting, now_ms
from simulator.gateway import rate_scale

bp = Blueprint("inspect", __name__, url_prefix="/_sim")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Walmart simulator</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;
margin-bottom:1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;
vertical-align:top}code{font-size:12px}</style></head><body>
<h1>Walmart simulator</h1>
<p>Clock: {{ now }} · rate scale ×{{ scale }} · faults: <code>{{ faults }}</code></p>
<h2>Sellers</h2><table><tr><th>seller</th><th>client id</th><th>orders</th><th>returns</th>
<th>rate limits</th></tr>
{% for s in sellers %}<tr><td>{{ s.seller_id }}</td><td>{{ s.client_id }}</td>
<td>{{ s.orders }}</td><td>{{ s.returns }}</td><td>×{{ scales[s.seller_id] }}</td></tr>
{% endfor %}</table>
<h2>Calls per endpoint</h2><table><tr><th>endpoint</th><th>by status</th></tr>
{% for e, by in counters.items() %}<tr><td>{{ e }}</td><td>{{ by }}</td></tr>{% endfor %}</table>
<h2>Latest orders</h2><table><tr><th>seller</th><th>PO</th><th>lines: buckets</th>
<th>tracking</th><th>cancellations</th><th>refunds</th></tr>
{% for o in latest %}<tr><td>{{ o.seller }}</td>
<td><a href="{{ url_for('inspect.order', seller_id=o.seller, po=o.po) }}">{{ o.po }}</a></td>
<td>{% for l in o.lines %}{{ l.lineNumber }} {{ l.sku }}: C{{ l.created }} A{{ l.acknowledged }}
S{{ l.shipped }} D{{ l.delivered }} X{{ l.cancelled }}{% if l.intentToCancel %} (intent to cancel)
{% endif %}<br>{% endfor %}</td>
<td>{% for t in o.tracking %}{{ t }}<br>{% endfor %}</td>
<td>{% for c in o.cancels %}{{ c }}<br>{% endfor %}</td>
<td>{% for r in o.refunds %}{{ r }}<br>{% endfor %}</td></tr>{% endfor %}</table>
<h2>Notification subscriptions</h2><table><tr><th>seller</th><th>event</th><th>status</th>
<th>eventUrl</th></tr>
{% for s in subscriptions %}<tr><td>{{ s.seller_id }}</td><td>{{ s.event_type }}</td>
<td>{{ s.status }}</td><td><code>{{ s.event_url }}</code></td></tr>{% endfor %}</table>
<h2>Latest notifications</h2><table><tr><th>#</th><th>seller</th><th>event</th><th>PO</th>
<th>state</th><th>attempts</th><th>last answer</th><th>fault</th></tr>
{% for d in deliveries %}<tr><td>{{ d.id }}</td><td>{{ d.seller_id }}</td>
<td>{{ d.event_type }}</td><td>{{ d.po }}</td><td>{{ d.state }}</td><td>{{ d.attempts }}</td>
<td>{{ d.last_status or d.last_error or '' }}</td><td>{{ d.fault or '' }}</td></tr>
{% endfor %}</table>
<h2>Latest requests</h2><table><tr><th>#</th><th>seller</th><th>call</th><th>status</th>
<th>correlation id</th></tr>
{% for r in requests %}<tr><td>{{ r.id }}</td><td>{{ r.seller_id or '' }}</td>
<td><code>{{ r.method }} {{ r.path }}</code></td><td>{{ r.status }}</td>
<td><code>{{ r.correlation_id or '' }}</code></td></tr>{% endfor %}</table></body></html>"""


def _conn():
    return connect(current_app.config["SIM_DB"])


def _carrier(tracking: dict) -> str:
    names = tracking["carrierName"]
    return names.get("carrier") or names.get("otherCarrier") or "?"


def _summary(seller: str, doc: dict) -> dict:
    lines = [{**line, "shipped": orders.shipped(line), "delivered": orders.delivered(line),
              "cancelled": orders.cancelled(line)} for line in doc["lines"]]
    return {
        "seller": seller, "po": doc["purchaseOrderId"], "lines": lines,
        "tracking": [f"line {line['lineNumber']} ×{s['qty']}: {_carrier(s['tracking'])} "
                     f"{s['tracking']['trackingNumber']}"
                     for line in doc["lines"] for s in line["shipments"]],
        "cancels": [f"line {line['lineNumber']} ×{c['qty']}: {c['reason'] or 'auto-cancel'}"
                    for line in doc["lines"] for c in line["cancellations"]],
        "refunds": [f"line {line['lineNumber']}: ${r['amount'] + r['tax']:.2f} {r['reason']}"
                    for line in doc["lines"] for r in line["refunds"]],
    }


@bp.get("/")
def index():
    conn = _conn()
    sellers = conn.execute(
        "SELECT s.seller_id, s.client_id, (SELECT count(*) FROM orders o WHERE "
        "o.seller_id = s.seller_id) AS orders, (SELECT count(*) FROM returns r WHERE "
        "r.seller_id = s.seller_id) AS returns FROM sellers s ORDER BY s.seller_id").fetchall()
    latest = [_summary(r["seller_id"], json.loads(r["doc"])) for r in conn.execute(
        "SELECT seller_id, doc FROM orders ORDER BY modified_ms DESC LIMIT 50")]
    requests_ = conn.execute("SELECT * FROM requests ORDER BY id DESC LIMIT 100").fetchall()
    faults = {r["endpoint"]: json.loads(r["config"])
              for r in conn.execute("SELECT * FROM faults")}
    subscriptions = conn.execute("SELECT * FROM subscriptions ORDER BY created DESC "
                                 "LIMIT 50").fetchall()
    deliveries = conn.execute("SELECT * FROM deliveries ORDER BY id DESC LIMIT 50").fetchall()
    return render_template_string(PAGE, sellers=sellers, latest=latest, requests=requests_,
                                  subscriptions=subscriptions, deliveries=deliveries,
                                  counters=control.counters(conn), faults=faults,
                                  scale=get_setting(conn, "rate_scale", 1.0),
                                  scales={s["seller_id"]: rate_scale(conn, s["seller_id"])
                                          for s in sellers},
                                  now=now_ms(conn))


@bp.get("/orders/<seller_id>/<po>")
def order(seller_id: str, po: str):
    doc = orders.load(_conn(), seller_id, po)
    if doc is None:
        abort(404)
    return jsonify({"walmart": orders.render(doc), "summary": _summary(seller_id, doc)})


@bp.get("/api/requests")
def requests_log():
    limit = min(int(request.args.get("limit", 100)), 1000)
    rows = _conn().execute("SELECT * FROM requests ORDER BY id DESC LIMIT ?", (limit,))
    return jsonify([dict(r) for r in rows])


@bp.get("/api/counters")
def counters():
    return jsonify(control.counters(_conn()))


@bp.get("/api/faults")
def faults():
    """The faults set per endpoint (`next` counts what is still queued)."""
    return jsonify({r["endpoint"]: json.loads(r["config"])
                    for r in _conn().execute("SELECT * FROM faults")})


@bp.get("/api/deliveries")
def deliveries_log():
    """The latest notifications drawn up (`?seller=`), newest first, with their state."""
    limit = min(int(request.args.get("limit", 100)), 1000)
    seller = request.args.get("seller")
    rows = _conn().execute("SELECT * FROM deliveries" + (" WHERE seller_id = ?" if seller else "")
                           + " ORDER BY id DESC LIMIT ?", (seller, limit) if seller else (limit,))
    return jsonify([{**dict(r), "body": json.loads(r["body"])} for r in rows])
