"""python -m simulator COMMAND … — serve, seed and steer the Walmart simulator."""

from __future__ import annotations

import argparse
import json
import os
import sys

from simulator import control
from simulator.errors import WalmartFault

ENDPOINTS = ("*", "token", "released", "orders", "order", "acknowledge", "shipping", "cancel",
             "refund", "returns", "return_refund", "inventory", "inventory_get", "webhooks",
             "events")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--db", default=os.environ.get("SIMULATOR_DB", "instance/simulator.sqlite"),
                   help="the simulator's state file (env SIMULATOR_DB)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="serve the API (gunicorn, keeping WM_* headers)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5055)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--threads", type=int, default=16)

    s = sub.add_parser("add-seller", help="create or update a seller account")
    s.add_argument("seller")
    s.add_argument("--client-id", required=True)
    s.add_argument("--client-secret", required=True)

    s = sub.add_parser("set-secret", help="the seller regenerates its client secret")
    s.add_argument("seller")
    s.add_argument("--client-secret", required=True)

    s = sub.add_parser("forbid", help="the seller's credentials lack a permission (403)")
    s.add_argument("seller")
    s.add_argument("--token", action="store_true", help="refuse the token itself with 403")
    s.add_argument("--endpoint", action="append", default=[], choices=ENDPOINTS[:1] + ENDPOINTS[2:],
                   help="answer 403 on this business call ('*': every one); repeatable")
    s.add_argument("--clear", action="store_true", help="grant every permission again")

    s = sub.add_parser("seed", help="create N released orders (deterministic per --seed)")
    s.add_argument("--seller", required=True)
    s.add_argument("--count", type=int, default=100)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--days", type=float, default=3.0, help="spread order dates over N days")
    s.add_argument("--intent-rate", type=float, default=0.03,
                   help="share of lines with a buyer's intent to cancel")
    s.add_argument("--ship-node", action="append", default=[], metavar="ID",
                   help="orders come from these ship nodes in turn (repeat the option; the "
                        "first becomes the seller's default node unless it has one)")

    s = sub.add_parser("faults", help="inject faults on an endpoint (or '*')")
    s.add_argument("endpoint", choices=ENDPOINTS, nargs="?")
    s.add_argument("--error-rate", type=float, help="probability of a 500")
    s.add_argument("--timeout-rate", type=float, help="probability of hanging before acting")
    s.add_argument("--timeout-after-rate", type=float,
                   help="probability of acting, then hanging (an ambiguous outcome)")
    s.add_argument("--malformed-rate", type=float, help="probability of broken JSON in a 200")
    s.add_argument("--throttle-rate", type=float, help="probability of a 429")
    s.add_argument("--reject-rate", type=float,
                   help="probability of a 400 INVALID_REQUEST_CONTENT (a data error)")
    s.add_argument("--replay-page-rate", type=float,
                   help="probability that a page read through nextCursor serves the previous "
                        "page's orders again (the cursor still moves on: that page is skipped)")
    s.add_argument("--repeat-cursor-rate", type=float,
                   help="probability that a page read through nextCursor gives that same "
                        "cursor as its nextCursor (a client that follows it loops)")
    s.add_argument("--short-count-rate", type=float,
                   help="probability that a page read through nextCursor lacks its last order "
                        "(the walk gets fewer orders than meta.totalCount)")
    s.add_argument("--down", action="store_true", help="answer every call with a bare 503")
    s.add_argument("--down-text", metavar="TEXT",
                   help="like --down, with TEXT as the 503's plain-text body (a gateway's or "
                        "proxy's own page) instead of 'Service Unavailable'")
    s.add_argument("--hang-seconds", type=float, help="how long a timeout hangs (default 40)")
    s.add_argument("--next", action="append", default=[], metavar="KIND=N",
                   help="fail the next N calls with KIND (error, timeout, timeout_after, "
                        "malformed, throttle, reject), or the next N pages read through "
                        "nextCursor (replay_page, repeat_cursor, short_count), or the next N "
                        "notifications (events: lost, duplicate, delay, reorder, "
                        "wrong_password)")
    s.add_argument("--replenish-format", choices=("epoch_ms", "http_date"),
                   help="how X-Next-Replenishment-Time is written (default epoch_ms)")
    s.add_argument("--replenish-seconds", type=float,
                   help="how far ahead a throttle fault's replenish time is (default 1)")
    s.add_argument("--lost-rate", type=float,
                   help="events: probability that a notification is never sent")
    s.add_argument("--duplicate-rate", type=float,
                   help="events: probability that a notification is sent twice (same eventId)")
    s.add_argument("--delay-rate", type=float,
                   help="events: probability that a notification is held --delay-seconds")
    s.add_argument("--delay-seconds", type=float, help="events: how long a delay holds (5)")
    s.add_argument("--reorder-rate", type=float,
                   help="events: probability that a notification is held --reorder-seconds, "
                        "so later ones arrive first (out of order)")
    s.add_argument("--reorder-seconds", type=float, help="events: how long a reorder holds (2)")
    s.add_argument("--wrong-password-rate", type=float,
                   help="events: probability that a notification carries a wrong password "
                        "(on every attempt)")
    s.add_argument("--clear", action="store_true", help="remove faults (all when no endpoint)")

    s = sub.add_parser("rate-scale", help="multiply every rate limit (of one seller)")
    s.add_argument("scale", type=float)
    s.add_argument("--seller", help="only this seller's limits (its scale wins)")

    for name, text in (("buyer-cancel", "the buyer cancels unshipped units"),
                       ("intent-to-cancel", "the buyer asks to cancel (intentToCancel)"),
                       ("seller-center-cancel", "the seller cancels unshipped units by hand in "
                        "Seller Center")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--seller", required=True)
        s.add_argument("po")
        s.add_argument("--line")
        if name == "seller-center-cancel":
            s.add_argument("--quiet", action="store_true",
                           help="leave the order's last-modified time (searches miss it)")

    s = sub.add_parser("fraud-cancel", help="Walmart cancels unshipped units as fraud "
                                            "(FRAUD_CANCEL)")
    s.add_argument("--seller", required=True)
    s.add_argument("po")
    s.add_argument("--line")

    s = sub.add_parser("subscriptions", help="the seller's notification subscriptions")
    s.add_argument("--seller", required=True)

    s = sub.add_parser("deliveries", help="notifications drawn up, with their state")
    s.add_argument("--seller")

    sub.add_parser("deliver-events", help="send the notifications that are due now")

    s = sub.add_parser("seller-center-ship", help="the seller ships in Seller Center")
    s.add_argument("--seller", required=True)
    s.add_argument("po")
    s.add_argument("--tracking", required=True)
    s.add_argument("--carrier", default="UPS")
    s.add_argument("--line", action="append", default=[], metavar="LINE=QTY",
                   help="default: every acknowledged unit")
    s.add_argument("--quiet", action="store_true",
                   help="leave the order's last-modified time as it was (searches miss it)")

    s = sub.add_parser("seller-center-acknowledge", help="another tool acknowledges the order")
    s.add_argument("--seller", required=True)
    s.add_argument("po")
    s.add_argument("--quiet", action="store_true")

    s = sub.add_parser("lose-update", help="Walmart no longer shows the order's updates "
                                           "(lines back in Created; searches miss it)")
    s.add_argument("--seller", required=True)
    s.add_argument("po")
    s.add_argument("--line")

    s = sub.add_parser("seller-center-refund", help="the seller refunds a return by hand")
    s.add_argument("--seller", required=True)
    s.add_argument("rma")
    s.add_argument("--line", action="append", default=[], metavar="LINE=QTY",
                   help="return line number=units (default: every unit not refunded)")

    s = sub.add_parser("seller-center-stock", help="someone sets a SKU's quantity in Seller "
                                                   "Center")
    s.add_argument("--seller", required=True)
    s.add_argument("sku")
    s.add_argument("amount", type=int)
    s.add_argument("--ship-node")

    s = sub.add_parser("deliver", help="the carrier delivers shipped units (one order or all)")
    s.add_argument("--seller", required=True)
    s.add_argument("po", nargs="?")

    s = sub.add_parser("open-return", help="the buyer returns shipped units")
    s.add_argument("--seller", required=True)
    s.add_argument("po")
    s.add_argument("--line", action="append", default=[], metavar="LINE=QTY")
    s.add_argument("--reason")
    s.add_argument("--received", action="store_true", help="the item is already back")

    for name, text in (("receive-return", "the returned item arrives back"),
                       ("walmart-refund", "Walmart refunds the return itself")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--seller", required=True)
        s.add_argument("rma")

    s = sub.add_parser("advance-clock", help="move the clock forward (applies auto-cancel)")
    s.add_argument("hours", type=float)

    s = sub.add_parser("show", help="print an order as Walmart returns it")
    s.add_argument("--seller", required=True)
    s.add_argument("po")

    sub.add_parser("counters", help="calls per endpoint and status")
    return p


def _pairs(items: list[str], what: str) -> dict[str, int]:
    result = {}
    for item in items:
        key, _, value = item.partition("=")
        if not value.isdigit():
            raise SystemExit(f"{what} must look like NAME=NUMBER, not {item!r}")
        result[key] = int(value)
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from simulator.serve import serve
        return serve(args.db, args.host, args.port, args.workers, args.threads)
    conn = control.conn_for(args.db)
    try:
        out = _run(conn, args)
    except (KeyError, ValueError, WalmartFault) as exc:  # a fault: Walmart's own refusal
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if out is not None:
        print(out if isinstance(out, str) else json.dumps(out, indent=2))
    return 0


def _run(conn, args):
    command = args.command
    if command == "add-seller":
        control.add_seller(conn, args.seller, args.client_id, args.client_secret)
        return f"seller {args.seller} ready"
    if command == "set-secret":
        control.set_client_secret(conn, args.seller, args.client_secret)
        return f"seller {args.seller} has a new client secret"
    if command == "forbid":
        if args.clear:
            control.allow(conn, args.seller)
            return f"seller {args.seller} may call everything"
        if not (args.token or args.endpoint):
            raise ValueError("say what is forbidden: --token and/or --endpoint")
        return control.forbid(conn, args.seller, token=args.token, endpoints=args.endpoint)
    if command == "seed":
        made = control.seed_orders(conn, args.seller, args.count, args.seed, args.days,
                                   args.intent_rate, args.ship_node)
        return f"{made} order(s) created for {args.seller}"
    if command == "faults":
        if args.clear:
            if args.endpoint:
                control.set_faults(conn, args.endpoint)
            else:
                control.clear_faults(conn)
            return "faults cleared"
        if not args.endpoint:
            raise ValueError("name an endpoint (or '*')")
        config = {k: v for k, v in {
            "error_rate": args.error_rate, "timeout_rate": args.timeout_rate,
            "timeout_after_rate": args.timeout_after_rate, "malformed_rate": args.malformed_rate,
            "throttle_rate": args.throttle_rate, "reject_rate": args.reject_rate,
            "replay_page_rate": args.replay_page_rate,
            "repeat_cursor_rate": args.repeat_cursor_rate,
            "short_count_rate": args.short_count_rate, "hang_seconds": args.hang_seconds,
            "replenish_format": args.replenish_format,
            "replenish_seconds": args.replenish_seconds,
            "lost_rate": args.lost_rate, "duplicate_rate": args.duplicate_rate,
            "delay_rate": args.delay_rate, "delay_seconds": args.delay_seconds,
            "reorder_rate": args.reorder_rate, "reorder_seconds": args.reorder_seconds,
            "wrong_password_rate": args.wrong_password_rate}.items()
            if v is not None}
        if args.down or args.down_text:
            config["down"] = args.down_text or True
        if args.next:
            config["next"] = _pairs(args.next, "--next")
        return control.set_faults(conn, args.endpoint, **config)
    if command == "rate-scale":
        control.set_rate_scale(conn, args.scale, args.seller)
        return f"rate limits ×{args.scale:g}" + (f" for {args.seller}" if args.seller else "")
    if command == "buyer-cancel":
        return f"{control.buyer_cancel(conn, args.seller, args.po, args.line)} unit(s) cancelled"
    if command == "seller-center-cancel":
        cancelled = control.seller_center_cancel(conn, args.seller, args.po, args.line,
                                                 quiet=args.quiet)
        return f"{cancelled} unit(s) cancelled in Seller Center"
    if command == "intent-to-cancel":
        control.intent_to_cancel(conn, args.seller, args.po, args.line)
        return "intent to cancel set"
    if command == "fraud-cancel":
        cancelled = control.fraud_cancel(conn, args.seller, args.po, args.line)
        return f"{cancelled} unit(s) cancelled as fraud"
    if command == "subscriptions":
        return control.subscriptions(conn, args.seller)
    if command == "deliveries":
        return [{k: v for k, v in d.items() if k != "body"}
                for d in control.deliveries(conn, args.seller)]
    if command == "deliver-events":
        return f"{control.deliver_events(conn)} notification(s) sent or tried"
    if command == "seller-center-ship":
        control.seller_center_ship(conn, args.seller, args.po, args.tracking, args.carrier,
                                   _pairs(args.line, "--line") or None, quiet=args.quiet)
        return f"order {args.po} shipped with {args.tracking}"
    if command == "seller-center-acknowledge":
        control.seller_center_acknowledge(conn, args.seller, args.po, quiet=args.quiet)
        return f"order {args.po} acknowledged"
    if command == "lose-update":
        return f"{control.lose_update(conn, args.seller, args.po, args.line)} unit(s) back " \
               "in Created"
    if command == "seller-center-refund":
        lines = {int(k): v for k, v in _pairs(args.line, "--line").items()} or None
        control.seller_center_refund(conn, args.seller, args.rma, lines)
        return f"return {args.rma} refunded in Seller Center"
    if command == "seller-center-stock":
        control.seller_center_stock(conn, args.seller, args.sku, args.amount, args.ship_node)
        return f"SKU {args.sku} set to {args.amount}"
    if command == "deliver":
        return f"{control.deliver(conn, args.seller, args.po)} unit(s) delivered"
    if command == "open-return":
        doc = control.open_return(conn, args.seller, args.po,
                                  _pairs(args.line, "--line") or None, args.reason,
                                  received=args.received)
        return f"return {doc['rma']} opened"
    if command == "receive-return":
        control.receive_return(conn, args.seller, args.rma)
        return f"return {args.rma} received"
    if command == "walmart-refund":
        from simulator import returns
        returns.walmart_refunds(conn, args.seller, args.rma)
        return f"return {args.rma} refunded by Walmart"
    if command == "advance-clock":
        return f"{control.advance_clock(conn, args.hours)} line(s) auto-cancelled"
    if command == "show":
        return control.order_state(conn, args.seller, args.po)
    if command == "counters":
        return control.counters(conn)
    raise ValueError(command)


if __name__ == "__main__":
    sys.exit(main())
