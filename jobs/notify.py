"""Delivering one alert to the configured webhook and/or e-mail recipients.

A failure raises, so RQ's Retry (set when the alert was queued) tries again later.
"""

from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app

from jobs.app import app_job

TIMEOUT = (5, 15)


# What chat tools read as a mention: @here, @channel, @everyone, @all, @someone (not the @ of
# an e-mail address).
_MENTION = re.compile(r"(?<!\w)@(?=\w)")
_MARKDOWN_LINK = re.compile(r"\]\s*\(")
_CHAT_FIELDS = ("text", "subject")


class WebhookFailed(Exception):
    """The webhook did not take the alert. Names its host only: the path and query of an
    incoming-webhook URL are its secret (Slack's /services/T…/B…/token, Teams' signature)."""


def masked(url: str) -> str:
    """The URL with its user info, path and query replaced, fit for a log line."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def chat_safe(text: str) -> str:
    """Text that Slack, Mattermost, Teams and Discord show as written: `&`, `<`, `>` escaped
    as Slack asks (no <!channel>, <@user> or <url|label>; the markdown tools decode them back),
    a zero-width space after a mention's @ and between a markdown link's `](`."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_LINK.sub("]\u200b(", _MENTION.sub("@\u200b", text))


class _MaskInLogs(logging.Filter):
    """urllib3 logs each request's path and query at DEBUG: mask them in its records."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "…")
            record.msg, record.args = message, ()
        return True


def _webhook(url: str, message: dict[str, Any]) -> None:
    # Slack, Teams and Mattermost incoming webhooks show `text`; other receivers get it all
    # (the other fields stay raw data for programs, only what chats display is escaped).
    parts = urlsplit(url)
    guard = _MaskInLogs([s for s in (parts.path, parts.query) if len(s) > 1])
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    urllib3_log.addFilter(guard)
    body = {**message, **{k: chat_safe(message[k]) for k in _CHAT_FIELDS if message.get(k)}}
    try:
        response = requests.post(url, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        # `from None`: requests' own message (and its chained causes) spell out the full URL.
        raise WebhookFailed(f"webhook {masked(url)} not reached ({type(exc).__name__})") from None
    finally:
        urllib3_log.removeFilter(guard)
    if response.status_code >= 400:
        raise WebhookFailed(f"webhook {masked(url)} answered {response.status_code}")


def _email(config, message: dict[str, Any]) -> None:
    mail = EmailMessage()
    mail["Subject"] = message["subject"]
    mail["From"] = config["SMTP_FROM"]
    mail["To"] = ", ".join(config["NOTIFY_EMAIL_TO"])
    mail.set_content(message["text"])
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(mail)


@app_job
def deliver(channel: str, message: dict[str, Any]) -> str:
    config = current_app.config
    if channel == "webhook":
        _webhook(config["NOTIFY_WEBHOOK_URL"], message)
    elif channel == "email":
        _email(config, message)
    else:
        raise ValueError(f"unknown notification channel {channel!r}")
    return channel
