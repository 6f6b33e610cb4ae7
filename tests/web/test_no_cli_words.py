"""No web page speaks command-line: a crawl over every page of the demo (with its UDRs, causes
and improvements), signed in as an admin, finds no ``salesflow COMMAND`` and no ``--option``."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from web_helpers import demo_with_accounts, signed_in

SKIP = ("/api", "/static", "/logout", "/vendor", "/docs", "/openapi", "/redoc", "/data/rejected")
LIMIT = 150  # pages; the demo has far fewer distinct ones


def cli_words() -> re.Pattern[str]:
    """``salesflow`` followed by one of its commands, or a ``--option`` of any command."""
    from salesflow.cli import app

    names = sorted({c.name for c in app.registered_commands if c.name}
                   | {g.name for g in app.registered_groups if g.name})  # fmt: skip
    commands = "|".join(re.escape(n) for n in names)
    return re.compile(rf"\bsalesflow\s+(?:-w\s+\S+\s+)?(?:{commands})\b|(?<![\w-])--[a-z][a-z-]+")


@pytest.fixture(scope="module")
def admin(tmp_path_factory, demo_copy):
    from salesflow.settings import load_settings
    from salesflow.web import create_app

    path = demo_with_accounts(demo_copy, tmp_path_factory.mktemp("crawl") / "demo",
                              opportunities=600, knowledge=True)  # fmt: skip
    return signed_in(create_app(load_settings(path)))("ann")


def visible_text(html: str) -> tuple[str, list[str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    links = [a["href"] for a in soup.select("a[href]")]
    for tag in soup(["script", "style", "template"]):
        tag.decompose()
    text = soup.get_text(" ")
    text += " ".join(str(el.get(attr, "")) for el in soup.select("[placeholder],[title]")
                     for attr in ("placeholder", "title"))  # fmt: skip
    return text, links


def test_no_page_shows_command_line_syntax(admin):
    pattern = cli_words()
    queue, seen, found = ["/"], set(), {}
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = admin.get(url)
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        text, links = visible_text(r.text)
        hits = sorted({m.group(0) for m in pattern.finditer(text)})
        if hits:
            found[url] = hits
        for href in links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert len(seen) >= 12, seen  # the crawl reached the app's pages
    assert found == {}


def test_a_measure_that_needs_a_stage_names_the_form_fields(admin):
    page = admin.get("/measures", params={"metric": "stage_time"})  # broken down by stage
    text, _ = visible_text(page.text)
    assert page.status_code == 200 and "Pick the stage with “Only where” stage;" in text
    version = admin.get("/api/udrs/1").json()["version"]
    form = {"metric": "stage_time", "period": "month", "bad_if": "above", "fcol": "", "fval": "",
            "version": version, "csrf_token": admin.csrf}  # fmt: skip
    refused = admin.post("/udrs/1/bind", data=form)
    assert refused.status_code == 400
    text, _ = visible_text(refused.text)
    assert "needs a stage" in text and "Pick one with “Only where” stage," in text
    assert not cli_words().search(text), cli_words().findall(text)


@pytest.mark.parametrize(
    ("core", "web"),
    [
        (
            "Pick the stage with --filter stage=NAME; without one",
            "with “Only where” stage; without",
        ),
        ("(--param stage=NAME or later)", "(the “stage” setting or later)"),
        ("Use --encoding latin-1, or", "Use the “Text encoding” choice set to latin-1, or"),
    ],
)
def test_browser_words_name_the_field_an_option_stands_for(core, web):
    from salesflow.web.errors import browser_words

    assert web in browser_words(core)
