"""Alerts never leak the webhook's secret URL into logs, and their chat text cannot ping a
channel, plant a link or inject markup from a store name or Walmart's text."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest

from tests.receivers import Webhook

SECRET_PATH = "/services/T0SECRET1/B0SECRET2/xoxbSecretToken3"
SECRET_QUERY = "token=QuerySecret4"
SECRETS = ("T0SECRET1", "B0SECRET2", "xoxbSecretToken3", "QuerySecret4")
HOSTILE_NAME = "Acme <!channel> @here [win](https://evil.example/x) & <@U123|boss>"
HOSTILE_ERROR = "<!everyone> @everyone <https://evil.example|Open Seller Center> **bold**"


@pytest.fixture
def hook():
    receiver = Webhook()
    yield receiver
    receiver.close()


def _failing_import_alert(app) -> None:
    """A store whose import has failed for an hour, with a hostile name and error; the sweeper
    queues its alert."""
    from tests.factories import make_store
    from webapp.extensions import db
    from webapp.models import Store
    from webapp.models.base import utcnow
    from webapp.services.stores.notifications import check_import_alerts

    with app.app_context():
        store = db.session.get(Store, make_store(name=HOSTILE_NAME[:80]).id)
        store.last_import_error = HOSTILE_ERROR
        store.import_failures = 7
        store.import_failing_since = utcnow() - timedelta(minutes=60)
        db.session.commit()
        assert check_import_alerts() == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("down", ["503", "refused"])
def test_a_failing_webhook_never_logs_its_secret_path_or_query(app, hook, worker, caplog,
                                                              down):
    """A webhook answering 503, or not listening at all, is logged (the worker's traceback
    included, which RQ also stores once the retries are spent) with its host only: the path
    and query that hold the token are masked."""
    base = hook.url.rsplit("/", 1)[0]
    if down == "refused":
        base = f"http://127.0.0.1:{_closed_port()}"
    else:
        hook.fail = 1
    app.config.update(NOTIFY_WEBHOOK_URL=f"{base}{SECRET_PATH}?{SECRET_QUERY}")
    caplog.set_level(logging.DEBUG)
    _failing_import_alert(app)
    worker()
    assert hook.received == []
    logged = caplog.text
    assert "webhook" in logged and "127.0.0.1" in logged  # which webhook failed stays clear
    for secret in SECRETS:
        assert secret not in logged, secret


def test_alert_text_for_chat_cannot_ping_link_or_inject_markup(app, hook, worker):
    """A store name and an error text full of Slack/Discord/Teams syntax reach the chat
    escaped: no <!channel>/<@user>/<url|label>, no live @here/@everyone, no markdown link."""
    app.config.update(NOTIFY_WEBHOOK_URL=hook.url)
    _failing_import_alert(app)
    worker()
    [alert] = hook.received
    for field in ("text", "subject"):
        chat = alert[field]
        assert "<" not in chat and ">" not in chat, chat
        for mention in ("@here", "@everyone", "@channel"):
            assert mention not in chat, (mention, chat)
        assert "](" not in chat, chat
    assert "&lt;!channel&gt;" in alert["text"] and "&lt;!everyone&gt;" in alert["text"]
    assert "&amp;" in alert["text"]  # a lone & is escaped too, as Slack asks
    assert "Acme" in alert["subject"] and "evil.example" in alert["text"]  # still readable


def test_the_mail_alert_keeps_the_text_as_written(app, worker):
    """E-mail is plain text: the chat escaping does not garble it."""
    from tests.receivers import MailSink

    mail = MailSink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, SMTP_STARTTLS=False,
                      NOTIFY_EMAIL_TO=["team@example.com"], SMTP_FROM="od@example.com")
    try:
        _failing_import_alert(app)
        worker()
        [message] = mail.messages
    finally:
        mail.close()
    assert "<!everyone> @everyone" in message and "&lt;" not in message
