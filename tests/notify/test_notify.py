"""``[notify]`` settings, the schedule (a real APScheduler trigger), rendering, and e-mail
addresses on accounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from salesflow.errors import ConfigError
from salesflow.notify.config import notify_settings
from salesflow.notify.render import render_html, render_text, webhook_payload
from salesflow.notify.schedule import Schedule, parse_schedule, start_scheduler
from salesflow.settings import settings_from_mapping


def _settings(tmp_path, notify=None, **sections):
    return settings_from_mapping(tmp_path, {"notify": notify or {}, **sections}, {})


def test_links_default_to_the_public_url_and_the_password_comes_from_the_environment(tmp_path):
    found = notify_settings(
        _settings(tmp_path, {"smtp_host": "mail.example.test", "smtp_from": "s@example.test",
                             "smtp_user": "salesflow"}, web={"public_url": "https://sales.test"}),
        env={"SALESFLOW_SMTP_PASSWORD": "pw"},
    )  # fmt: skip
    assert (found.base_url, found.smtp_port, found.smtp_password) == (
        "https://sales.test",
        25,
        "pw",
    )
    assert notify_settings(_settings(tmp_path), env={}).base_url == "http://localhost:8000"


@pytest.mark.parametrize(
    ("notify", "words"),
    [
        ({"smtp_host": "mail.example.test"}, "smtp_from is not"),
        ({"smtp_host": "m", "smtp_from": "a@b.c", "smtp_user": "u"}, "SALESFLOW_SMTP_PASSWORD"),
        ({"smtp_port": "seven"}, "is not a port"),
        ({"webhook_url": "hooks.example.test/x"}, "is not a web address"),
        ({"schedule": "monday morning"}, "cannot be read"),
        ({"shedule": "mon 08:00"}, "has no setting 'shedule'"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_in_words(tmp_path, notify, words):
    with pytest.raises(ConfigError, match=words):
        notify_settings(_settings(tmp_path, notify), env={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon 08:00", Schedule("mon", 8, 0)),
        ("Mon,Thu 8:30", Schedule("mon,thu", 8, 30)),
        ("daily 07:05", Schedule("*", 7, 5)),
        ("mon-fri 18:00", Schedule("mon-fri", 18, 0)),
    ],
)
def test_schedules_read_the_way_people_write_them(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["mon 25:00", "mon 08:60", "monday 08:00", "08:00", ""])
def test_a_schedule_that_cannot_be_read_is_refused(text):
    with pytest.raises(ConfigError):
        parse_schedule(text)


def test_the_scheduler_runs_the_digest_next_monday_at_eight_in_the_workspace_zone():
    scheduler = start_scheduler(parse_schedule("mon 08:00"), lambda: None, timezone="Europe/Berlin")
    try:
        when = scheduler.get_job("weekly-digest").next_run_time
    finally:
        scheduler.shutdown(wait=False)
    local = when.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 8, 0)
    assert timedelta(0) < when - datetime.now(ZoneInfo("UTC")) <= timedelta(days=7)


DOC = {
    "today": "2026-10-20",
    "base_url": "https://sales.test",
    "name": "Ann <admin>",
    "notes": [],
    "items": [
        {"kind": "overdue", "owner": "Ann", "text": "Fast <b>track</b>: 3 days overdue",
         "link": "https://sales.test/improvements/1?a=1&b=2"},
        {"kind": "new_pattern", "owner": None, "text": "Requests about “x” are growing",
         "link": "https://sales.test/requests"},
    ],
}  # fmt: skip


def test_html_escapes_what_people_typed_and_keeps_every_link():
    soup = BeautifulSoup(render_html(DOC), "html.parser")
    assert soup.find("b") is None  # a title's markup is shown as text, never rendered
    items = {li["data-kind"]: (li.a["href"], li.a.get_text()) for li in soup.select("li")}
    assert items["overdue"] == ("https://sales.test/improvements/1?a=1&b=2",
                                "Fast <b>track</b>: 3 days overdue")  # fmt: skip
    assert soup.find("script") is None and "Hello Ann <admin>," in soup.get_text()
    assert [h.get_text() for h in soup.find_all("h2")] == [
        "Check-ins due", "New patterns in the request log"
    ]  # fmt: skip


def test_text_and_webhook_carry_the_same_items_with_their_links():
    text = render_text(DOC)
    assert (
        "- Fast <b>track</b>: 3 days overdue\n  https://sales.test/improvements/1?a=1&b=2" in text
    )
    payload = webhook_payload({**DOC, "name": None})
    assert payload["text"].startswith("Hello team,")
    assert [i["link"] for i in payload["items"]] == [i["link"] for i in DOC["items"]]
    empty = render_text({**DOC, "items": []})
    assert "Nothing needs your attention this week." in empty


def test_accounts_take_an_email_address_and_refuse_a_wrong_one(cli, workspace, tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("correct horse battery staple\n")
    ws = workspace.settings.workspace
    made = cli.json("-w", ws, "user", "add", "ann", "--role", "admin", "--password-file", pw,
                    "--email", "ann@example.test")  # fmt: skip
    assert made["email"] == "ann@example.test"
    wrong = cli("-w", ws, "user", "edit", "ann", "--email", "ann at example", ok=False)
    assert wrong.exit_code != 0 and "is not an e-mail address" in wrong.stderr
    changed = cli.json("-w", ws, "user", "edit", "ann", "--email", "ann@sales.test")
    assert changed["email"] == "ann@sales.test" and changed["sessions_ended"] == 0
    cleared = cli.json("-w", ws, "user", "edit", "ann", "--email", "")
    assert cleared["email"] is None
    trail = cli.json("-w", ws, "user", "history", "ann")["events"]
    assert [(e["action"], e["detail"]["email"]) for e in trail[1:]] == [
        ("email", ["ann@example.test", "ann@sales.test"]), ("email", ["ann@sales.test", None])
    ]  # fmt: skip


def _with_notify(workspace, **values):
    config = workspace.settings.config_path
    lines = "\n".join(f'{k} = "{v}"' for k, v in values.items())
    config.write_text(config.read_text() + f"\n[notify]\n{lines}\n")
    from salesflow.settings import load_settings

    return load_settings(workspace.settings.workspace)


def test_serve_starts_the_schedule_only_when_one_is_set(workspace):
    from salesflow.cli.web_cmds import _digest_schedule

    assert _digest_schedule(workspace.settings) is None
    scheduler = _digest_schedule(_with_notify(workspace, schedule="daily 07:00"))
    try:
        job = scheduler.get_job("weekly-digest")
        assert (job.next_run_time.hour, job.next_run_time.minute) == (7, 0)
    finally:
        scheduler.shutdown(wait=False)


def test_the_scheduled_job_sends_and_records_the_digest(workspace, capsys):
    from mail_servers import webhook_server
    from salesflow.appdb import KnowledgeStore
    from salesflow.notify.schedule import scheduled_send

    with webhook_server() as (url, posted):
        settings = _with_notify(workspace, webhook_url=url, base_url="https://sales.test")
        scheduled_send(str(settings.workspace))()
    assert len(posted) == 1 and "Nothing needs your attention this week." in posted[0]["text"]
    assert "Weekly digest sent: 0 e-mails, webhook posted." in capsys.readouterr().err
    with KnowledgeStore.for_workspace(workspace) as store:
        assert store.digests.last().recipients == ["webhook"]
