"""Delivering one alert to the configured webhook and/or e-mail recipients.

A failure raises, so RQ's Retry (set when the alert was queued) tries again later.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import requests
from flask import current_app

from jobs.app import app_job

TIMEOUT = (5, 15)


def _webhook(url: str, message: dict[str, Any]) -> None:
    # Slack, Teams and Mattermost incoming webhooks show `text`; other receivers get it all.
    response = requests.post(url, json=message, timeout=TIMEOUT)
    response.raise_for_status()


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
