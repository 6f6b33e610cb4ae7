"""The digest in words: plain text and HTML for e-mail, and webhook JSON (Slack and Microsoft
Teams incoming webhooks both read a ``text`` key; links are written out in full so both show
them)."""

from __future__ import annotations

from html import escape
from typing import Any

from salesflow.workbench.digest import KINDS

__all__ = ["HEADINGS", "render_html", "render_text", "subject", "webhook_payload"]

HEADINGS = {
    "overdue": "Check-ins due",
    "verdict_changed": "Verdicts that changed",
    "udr_unaddressed": "Confirmed UDRs still waiting for a cause or an improvement",
    "new_signal": "New signals on measures",
    "new_pattern": "New patterns in the request log",
}
NOTHING = "Nothing needs your attention this week."


def subject(doc: dict[str, Any]) -> str:
    count = len(doc["items"])
    what = "1 thing" if count == 1 else f"{count} things"
    return f"salesflow weekly digest, {doc['today']}: {what} to look at"


def _groups(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        (HEADINGS[kind], items)
        for kind in KINDS
        if (items := [i for i in doc["items"] if i["kind"] == kind])
    ]


def _greeting(doc: dict[str, Any]) -> str:
    who = doc.get("name")
    return f"Hello {who}," if who else "Hello team,"


def render_text(doc: dict[str, Any]) -> str:
    """A person's or the team's digest as plain text, each item with its link."""
    lines = [_greeting(doc), "", f"Your salesflow digest for {doc['today']}.", ""]
    for heading, items in _groups(doc):
        lines += [heading, "-" * len(heading)]
        lines += [f"- {i['text']}\n  {i['link']}" for i in items]
        lines.append("")
    if not doc["items"]:
        lines += [NOTHING, ""]
    lines += [*doc.get("notes", ()), f"Open salesflow: {doc['base_url']}/"]
    return "\n".join(lines).rstrip() + "\n"


def render_html(doc: dict[str, Any]) -> str:
    """The same digest as a small HTML document (no scripts, no external resources)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(subject(doc))}</title></head><body>",
        f"<p>{escape(_greeting(doc))}</p><p>Your salesflow digest for {escape(doc['today'])}.</p>",
    ]
    for heading, items in _groups(doc):
        parts.append(f"<h2>{escape(heading)}</h2><ul>")
        parts += [
            f"<li data-kind='{escape(i['kind'])}'><a href='{escape(i['link'])}'>"
            f"{escape(i['text'])}</a></li>"
            for i in items
        ]
        parts.append("</ul>")
    if not doc["items"]:
        parts.append(f"<p>{NOTHING}</p>")
    parts += [f"<p>{escape(note)}</p>" for note in doc.get("notes", ())]
    parts.append(f"<p><a href='{escape(doc['base_url'])}/'>Open salesflow</a></p></body></html>")
    return "".join(parts)


def webhook_payload(doc: dict[str, Any]) -> dict[str, Any]:
    """``{"text": …}`` for a Slack or Teams incoming webhook, with the items as data too."""
    return {
        "text": render_text(doc),
        "today": doc["today"],
        "items": [{k: i[k] for k in ("kind", "owner", "text", "link")} for i in doc["items"]],
    }
