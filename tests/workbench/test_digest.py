"""``salesflow digest --send`` on the demo company with a frozen clock: one e-mail per person with
something to look at, delivered to a real SMTP server (aiosmtpd) on loopback, and one webhook
post to a local HTTP receiver; both are parsed and their items checked against what the demo is
built to show (docs in ``workbench/demo_knowledge.py``)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from mail_servers import free_port, smtp_server, webhook_server

TODAY = "2026-10-20"  # the fast-track is 3 days overdue, the checklist due today
BASE = "https://sales.example.test"
EMAILS = {
    "Jonas Berg": "jonas@example.test",
    "Maria Lopez": "maria@example.test",
    "Priya Shah": "priya@example.test",
    "Ana Costa": "ana@example.test",  # owns nothing: gets no e-mail
}


@pytest.fixture(scope="module")
def frozen_demo(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company with its knowledge seeded on TODAY (check-ins dated back from it)."""
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("digest") / "seeded"
    shutil.copytree(demo_data, path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALESFLOW_TODAY", TODAY)
        seed_demo_knowledge(path)
    return path


@pytest.fixture
def ws(frozen_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ws"
    shutil.copytree(frozen_demo, path)
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(path))
    monkeypatch.setenv("SALESFLOW_TODAY", TODAY)
    monkeypatch.setenv("SALESFLOW_USER", "facilitator")
    return path


def notify(path: Path, **values: object) -> None:
    """Write a [notify] section into the workspace's salesflow.toml."""
    lines = [f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()]
    config = path / "salesflow.toml"
    config.write_text(config.read_text() + "\n[notify]\n" + "\n".join(lines) + "\n")


def _ids(cli) -> dict[str, int]:
    return {i["title"]: i["id"] for i in cli.json("improve", "due")}


def _items(message) -> tuple[str, dict[str, list[str]]]:
    """The text part, and the HTML part's links by item kind."""
    text = message.get_body(("plain",)).get_content()
    soup = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
    links: dict[str, list[str]] = {}
    for item in soup.select("li[data-kind]"):
        links.setdefault(item["data-kind"], []).append(item.a["href"])
    return text, links


def test_the_demo_shows_due_overdue_and_won_improvements(cli, ws):
    due = {d["title"]: d for d in cli.json("improve", "due")}
    assert due["Proposal fast-track"]["overdue_days"] == 3  # overdue
    assert due["Discovery call checklist"]["overdue_days"] == 0  # due today
    assert "Lead routing within the hour" not in due  # monthly, asked on time
    wins = cli.json("improve", "wins")["wins"]
    assert [(w["title"], w["owner"]) for w in wins] == [("Proposal fast-track", "Jonas Berg")]


def test_send_emails_each_person_their_items_and_posts_the_team_digest(cli, ws):
    ids = _ids(cli)
    orphan = cli.json(
        "udr", "add", "Won orders under 10k raise over 2 requests each", "--owner", "Priya Shah"
    )["udr"]["id"]  # confirmed, nobody asked why yet
    cli("udr", "bind", orphan, "--metric", "requests_per_order", "--filter", "amount_band=<10k",
        "--period", "quarter", "--bad-if", "above", "--threshold", "2")  # fmt: skip
    for name, email in EMAILS.items():
        cli("user", "edit", name, "--email", email)
    with smtp_server() as (port, inbox), webhook_server() as (url, posted):
        notify(ws, smtp_host="127.0.0.1", smtp_port=port, smtp_from="salesflow@example.test",
               webhook_url=url, base_url=BASE)  # fmt: skip
        sent = cli.json("digest", "--send")

        assert len(posted) == 1 and sent["webhook"] is True
        team = posted[0]
        assert team["today"] == TODAY and "Hello team," in team["text"]
        owners = {i["owner"] for i in team["items"]} - {None}
        expected = {EMAILS[o] for o in owners if o in EMAILS}
        received = inbox.by_recipient()
        assert set(received) == expected == {e["to"] for e in sent["emails"]}
        assert len(inbox.messages) == len(expected)  # one e-mail per person
        assert EMAILS["Ana Costa"] not in received

        fast, checklist = ids["Proposal fast-track"], ids["Discovery call checklist"]
        text, links = _items(received[EMAILS["Jonas Berg"]])
        assert "Hello Jonas Berg," in text
        assert "Proposal fast-track: the check-in is 3 days overdue (due 17 October 2026" in text
        assert links["overdue"] == [f"{BASE}/improvements/{fast}"]
        assert "Proposal fast-track: the measure now says it worked." in text  # the demo's win
        assert links["verdict_changed"] == [f"{BASE}/improvements/{fast}"]
        assert "Discovery call checklist" not in text  # Maria's

        text, links = _items(received[EMAILS["Maria Lopez"]])
        assert "Discovery call checklist: the check-in is due today" in text
        assert links["overdue"] == [f"{BASE}/improvements/{checklist}"]
        assert received[EMAILS["Maria Lopez"]]["From"] == "salesflow@example.test"

        text, links = _items(received[EMAILS["Priya Shah"]])
        assert links["udr_unaddressed"] == [f"{BASE}/udrs/{orphan}"]
        assert f"UDR {orphan} is confirmed by the data but has no cause and no improvement" in text

        overdue = {i["link"]: i["owner"] for i in team["items"] if i["kind"] == "overdue"}
        assert overdue == {f"{BASE}/improvements/{fast}": "Jonas Berg",
                           f"{BASE}/improvements/{checklist}": "Maria Lopez"}  # fmt: skip
        assert any(i["kind"] == "new_pattern" and i["link"] == f"{BASE}/requests"
                   for i in team["items"])  # contract changes grow by design  # fmt: skip

        again = cli.json("digest", "--send")  # nothing new since: only what still waits
        kinds = {i["kind"] for i in posted[1]["items"]}
        assert kinds == {"overdue", "udr_unaddressed"} and again["since"] is not None
        assert len(inbox.messages) == len(expected) + 3  # Jonas, Maria and Priya again

    cli("improve", "checkin", fast, "--objective", "Proposals out within 5 days")
    jonas = cli.json("digest", "--user", "jonas berg")
    assert jonas["name"] == "Jonas Berg" and jonas["items"] == []
    page = BeautifulSoup(cli("digest", "--html", "--user", "Maria Lopez").stdout, "html.parser")
    assert [a["href"] for a in page.select("li[data-kind=overdue] a")] == [
        f"{BASE}/improvements/{checklist}"
    ]


def test_a_delivery_that_fails_says_where_and_records_nothing(cli, workspace, monkeypatch):
    from salesflow.appdb import KnowledgeStore

    path = workspace.settings.workspace
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(path))
    monkeypatch.setenv("SALESFLOW_TODAY", (date.today() + timedelta(days=10)).isoformat())
    with KnowledgeStore.for_workspace(workspace) as store:
        store.users.create("ann", role="editor", email="ann@example.test")
    cli("improve", "add", "--objective", "Answer leads within an hour", "--owner", "ann",
        "--status", "running")  # fmt: skip
    port = free_port()  # nothing listens there
    notify(path, smtp_host="127.0.0.1", smtp_port=port, smtp_from="salesflow@example.test")
    failed = cli("digest", "--send", ok=False)
    assert failed.exit_code != 0
    assert f"could not be e-mailed through 127.0.0.1:{port}" in failed.stderr
    with KnowledgeStore.for_workspace(workspace) as store:
        assert store.digests.last() is None  # the next run reports the same changes again

    preview = cli.json("digest", "--user", "ann")
    assert [i["overdue_days"] for i in preview["items"]] == [3]
    assert preview["email"] == "ann@example.test"


def test_a_webhook_that_refuses_is_an_error(cli, workspace, monkeypatch):
    path = workspace.settings.workspace
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(path))
    with webhook_server(status=500) as (url, posted):
        notify(path, webhook_url=url)
        failed = cli("digest", "--send", ok=False)
    assert failed.exit_code != 0 and len(posted) == 1
    assert f"The webhook at {url} answered 500" in failed.stderr


def test_an_admin_gets_the_items_no_account_owns(cli, ws):
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings

    with KnowledgeStore.open(load_settings(ws).resolved_app_url()) as store:
        store.users.create("olga", role="admin", email="olga@example.test")
    team = cli.json("digest")
    accounts = {u["name"].casefold() for u in team["users"]}
    unowned = [i for i in team["items"] if (i["owner"] or "").casefold() not in accounts]
    assert any(i["kind"] == "new_pattern" for i in unowned)  # request patterns have no owner
    assert cli.json("digest", "--user", "olga")["items"] == unowned
    editor = cli.json("digest", "--user", "Ana Costa")["items"]
    assert editor == []  # an editor gets only what she owns
