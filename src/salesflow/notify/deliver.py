"""Sending the digest: one e-mail per person with something to look at, one webhook post for
the team, then the digest is recorded so the next one says only what changed.

A delivery that fails raises a :class:`DeliveryError` saying which server or address and why;
the digest is then not recorded, so the next run reports the same changes again.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, SalesflowError
from salesflow.notify.render import render_html, render_text, subject, webhook_payload

if TYPE_CHECKING:
    from salesflow.notify.config import NotifySettings
    from salesflow.workbench.service import Workbench

__all__ = ["DeliveryError", "post_webhook", "send_digest", "send_emails"]

TIMEOUT = 30  # seconds for one SMTP conversation or one webhook post


class DeliveryError(SalesflowError):
    """The digest could not be delivered (mail server or webhook refused or unreachable)."""


def send_digest(bench: Workbench, notify: NotifySettings) -> dict[str, Any]:
    """Build the digest since the last one sent, deliver it and record it; returns what went
    where (``salesflow digest --send --json``)."""
    from salesflow.workbench.digest import build_digest

    if not notify.sends_email and not notify.webhook_url:
        raise ConfigError(
            "There is nowhere to send the digest",
            where=notify.where,
            hint="Set smtp_host and smtp_from, or webhook_url, in [notify] "
            "(see docs/configuration.md)",
        )
    previous = bench.store.digests.last()
    doc = build_digest(bench, base_url=notify.base_url, previous=previous)
    emails = send_emails(doc, notify) if notify.sends_email else []
    posted = post_webhook(doc, notify.webhook_url) if notify.webhook_url else False
    recipients = [e["to"] for e in emails] + (["webhook"] if posted else [])
    record = bench.store.digests.record(
        doc["state"], recipients=recipients, today=doc["today"], who=bench.who
    )
    return {
        "today": doc["today"],
        "since": doc["since"],
        "items": len(doc["items"]),
        "emails": emails,
        "webhook": posted,
        "digest_id": record.id,
    }


def _message(person: dict[str, Any], doc: dict[str, Any], sender: str) -> EmailMessage:
    mine = {**doc, "name": person["name"], "items": person["items"], "notes": []}
    message = EmailMessage()
    message["Subject"] = subject(mine)
    message["From"] = sender
    message["To"] = person["email"]
    message.set_content(render_text(mine))
    message.add_alternative(render_html(mine), subtype="html")
    return message


def send_emails(doc: dict[str, Any], notify: NotifySettings) -> list[dict[str, Any]]:
    """One e-mail to each person with an address and at least one item, over one connection."""
    people = [u for u in doc["users"] if u["email"] and u["items"]]
    if not people:
        return []
    server = f"{notify.smtp_host}:{notify.smtp_port}"
    try:
        with _connect(notify) as smtp:
            if notify.smtp_user:
                smtp.login(notify.smtp_user, notify.smtp_password or "")
            for person in people:
                smtp.send_message(_message(person, doc, notify.smtp_from or ""))
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(
            f"The mail server {server} refused the user name and password",
            where=notify.where,
            hint="Check smtp_user and the password in SALESFLOW_SMTP_PASSWORD",
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"The digest could not be e-mailed through {server}: {exc}",
            where=notify.where,
            hint="Check smtp_host and smtp_port, and that the mail server accepts salesflow",
        ) from None
    return [{"to": p["email"], "name": p["name"], "items": len(p["items"])} for p in people]


def _connect(notify: NotifySettings) -> smtplib.SMTP:
    host, port = notify.smtp_host or "", notify.smtp_port
    context = ssl.create_default_context()
    if port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
    return smtp


def post_webhook(doc: dict[str, Any], url: str) -> bool:
    """Post the team's digest to a webhook; any answer but 2xx is a DeliveryError."""
    body = json.dumps(webhook_payload(doc)).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(
            f"The webhook at {url} answered {exc.code} {exc.reason}",
            where="[notify] webhook_url",
            hint="Check the webhook address; the service may have revoked it",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(
            f"The webhook at {url} could not be reached: {reason}",
            where="[notify] webhook_url",
            hint="Check the address and that this machine can reach it",
        ) from None
    return True
