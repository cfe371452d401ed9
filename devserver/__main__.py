"""`python -m devserver` (what `make run` calls): Redis, database, admin, web, worker, cron."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from config import RUNTIME_FILE, launcher_settings
from devserver import demo, logs
from devserver.net import wait_until_serving
from devserver.redis_server import EmbeddedRedis, reachable
from devserver.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[1]


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def prepare_database(admin_email: str, admin_password: str | None, simulator_url: str,
                     seller_secret: str) -> str:
    """Upgrade the schema, make sure someone can sign in, and connect the demo store.
    Returns how to sign in, for the console's last lines."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.services.users.accounts import ensure_first_admin, first_admin_email

    app = create_app()
    with app.app_context():
        upgrade()
        user, generated = ensure_first_admin(admin_email, admin_password)
        if user and generated:
            sign_in = (f"sign in as {user.email} with password: {generated}\n"
                       "[run]   (shown once; change it with `flask --app wsgi users "
                       "set-password EMAIL`)")
        elif user:
            sign_in = f"sign in as {user.email} with the password in ORDERDECK_ADMIN_PASSWORD"
        else:
            sign_in = (f"sign in as {first_admin_email() or 'your admin'} (a forgotten "
                       "password: `flask --app wsgi users set-password EMAIL`)")
        say(demo.prepare_store(simulator_url, seller_secret))
        say(demo.subscribe_store())
        db.engine.dispose()
    return sign_in


def shown(path: Path) -> str:
    """A path as short as it can be said: relative to here when it is below."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start everything; whatever stops the start (Ctrl-C, SIGTERM, an error) stops what was
    started: the children have process groups of their own, so nothing else would."""
    signal.signal(signal.SIGTERM, _interrupt)  # (until the supervisor takes over)
    supervisor = Supervisor()
    try:
        return start(supervisor)
    except KeyboardInterrupt:
        say("stopped")
        return 130
    finally:
        supervisor.stop_all()


def start(supervisor: Supervisor) -> int:
    settings = launcher_settings()
    instance: Path = settings["instance"]
    instance.mkdir(parents=True, exist_ok=True)
    log_dir = logs.folder(instance)
    logs.launcher_logging(log_dir)
    env = dict(os.environ, ORDERDECK_INSTANCE=str(instance), PYTHONUNBUFFERED="1")

    redis_url = settings["redis_url"]
    if redis_url and reachable(redis_url):
        say(f"using Redis at {redis_url}")
    else:
        if redis_url:
            say(f"REDIS_URL {redis_url} is unreachable: starting an embedded Redis instead")
        embedded = EmbeddedRedis(instance / "redis")
        supervisor.add(Child("redis", embedded.command(), env, log=log_dir / "redis.log"))
        deadline = time.monotonic() + 15
        while not reachable(embedded.url, timeout=0.3):
            if time.monotonic() > deadline:
                say("the embedded Redis did not start")
                return 1
            time.sleep(0.1)
        redis_url = embedded.url
        say(f"embedded Redis at {redis_url}")
    env["REDIS_URL"] = redis_url

    simulator, simulator_url = demo.simulator_child(instance, settings["simulator_port"], env,
                                                    log_dir / "simulator.log")
    supervisor.add(simulator)
    if not wait_until_serving(f"{simulator_url}/_sim/api/counters", process=simulator.process):
        say("the Walmart simulator did not start")
        return 1
    seller_secret = demo.prepare_seller(demo.simulator_conn(instance), settings["demo_orders"])
    say(f"Walmart simulator at {simulator_url} (inspect: {simulator_url}/_sim/)")
    env["ORDERDECK_SIMULATOR_URL"] = simulator_url
    # For prepare_database in this process (config.py reads the environment).
    os.environ.update(REDIS_URL=redis_url, ORDERDECK_SIMULATOR_URL=simulator_url)

    port = settings["port"]
    # Walmart (the simulator) sends the demo store's order notifications to the web process:
    # its own address, unless one was given.
    public_url = os.environ.get("ORDERDECK_PUBLIC_URL") or f"http://127.0.0.1:{port}"
    env["ORDERDECK_PUBLIC_URL"] = public_url
    os.environ["ORDERDECK_PUBLIC_URL"] = public_url

    (instance / RUNTIME_FILE).write_text(json.dumps(
        {"redis_url": redis_url, "simulator_url": simulator_url,
         "launcher_pid": os.getpid()}, indent=2))

    sign_in = prepare_database(settings["admin_email"], settings["admin_password"],
                               simulator_url, seller_secret)

    bin_dir = Path(sys.executable).parent

    def ours(name: str, command: list[str]) -> Child:
        return Child(name, command, env, log=log_dir / f"{name}.log", echo=True)

    supervisor.add(ours("worker", [sys.executable, "-m", "jobs.worker"]))
    supervisor.add(ours("cron", [str(bin_dir / "rq"), "cron", "-u", redis_url,
                                 "jobs.cron_schedule"]))
    supervisor.add(ours("web", [sys.executable, "-m", "gunicorn", "--workers", "2",
                                "--threads", "4", "--bind", f"127.0.0.1:{port}",
                                "--graceful-timeout", "5", "--no-control-socket",
                                "wsgi:app"]))
    names = ", ".join(c.log.name for c in supervisor.children if c.log) + ", launcher.log"
    say(f"logs: {shown(log_dir)}/ ({names}); warnings and errors also show here")
    serving = wait_until_serving(f"http://127.0.0.1:{port}/healthz", timeout=60)
    supervisor.echo()
    if serving:
        say(f"Orderdeck is running on http://127.0.0.1:{port}  (Ctrl-C stops everything)")
    else:
        say(f"the web server has not answered yet; see {shown(log_dir / 'web.log')}")
    say(sign_in)
    supervisor.run()
    say("stopped")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
