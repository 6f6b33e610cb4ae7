"""A fake Salesforce REST API on loopback, over TLS, answering as Salesforce documents it.

The shapes follow the REST API Developer Guide (v60.0): a query answers
``{"totalSize", "done", "records", "nextRecordsUrl"}`` with each record carrying
``attributes: {type, url}`` and relationship fields as nested records (``Owner: {attributes, Name}``);
``queryAll`` also returns deleted records (``IsDeleted: true``); errors are a list of
``{"message", "errorCode"}``; an exhausted API limit is 403 ``REQUEST_LIMIT_EXCEEDED``; a rate limit
429 with ``Retry-After``; the OAuth token endpoint answers the refresh-token grant with
``{access_token, instance_url, token_type, issued_at, signature}``.

``simple-salesforce`` always builds ``https://host:port`` URLs, so the server speaks TLS with a
throw-away CA made by ``trustme``, trusted in the tests through ``REQUESTS_CA_BUNDLE``.

The SOQL understood is what the connector sends: ``SELECT … FROM <Object> [WHERE [SystemModstamp >
<ISO moment> AND] SystemModstamp <= <ISO moment>] ORDER BY <field>[, <field>]``, and for
OpportunityHistory the same window on its deals through the semi-join ``WHERE OpportunityId IN
(SELECT Id FROM Opportunity WHERE …)``. Every answer carries a ``Date`` header (the server's clock). Every request is recorded in ``requests``; ``faults``
make chosen requests fail (drop the connection, answer 429 or 403) a given number of times.
"""

from __future__ import annotations

import itertools
import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "60.0"
TOKEN = "00Dfake!access-token"
REFRESH_TOKEN = "5Aepfake-refresh-token"
#: the Opportunity fields the org has besides its custom ones (``FakeSalesforce.custom_fields``)
OPPORTUNITY_FIELDS = {
    "Id",
    "Name",
    "Account.Name",
    "Owner.Name",
    "StageName",
    "Amount",
    "CloseDate",
    "CreatedDate",
    "LeadSource",
    "Type",
    "IsDeleted",
    "SystemModstamp",
    "Probability",
    "ForecastCategoryName",
}


def stamp(moment: datetime) -> str:
    """A Salesforce dateTime as the API writes it: ``2026-01-05T10:00:00.000+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _parse(text: str) -> datetime:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text.replace("+0000", "+00:00"))


@dataclass
class Seen:
    """One request the server saw."""

    method: str
    path: str
    soql: str | None = None
    body: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def object(self) -> str | None:
        m = re.search(r"\bFROM\s+(\w+)", self.soql or "")
        return m.group(1) if m else None

    @property
    def until(self) -> str | None:
        m = re.search(r"SystemModstamp\s*<=\s*([\w:.+-]+)", self.soql or "")
        return m.group(1) if m else None

    @property
    def since(self) -> str | None:
        m = re.search(r"SystemModstamp\s*>\s*([\w:.+-]+)", self.soql or "")
        return m.group(1) if m else None


@dataclass
class Fault:
    """Answer requests ``when(seen)`` is true with ``action``: ``"drop"`` (close the connection
    without an answer) or ``(status, headers, body)``; ``times`` uses (``None``: always)."""

    when: Callable[[Seen], bool]
    action: Any
    times: int | None = 1
    used: int = 0


@dataclass
class FakeSalesforce:
    page_size: int = 4
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {
            o: {} for o in ("Opportunity", "OpportunityHistory", "Task", "Event")
        }
    )
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    url: str = ""
    now: datetime | None = None  # the server's clock (its Date header); None: the real one
    #: the org's custom Opportunity fields (``Region__c`` …): a query naming another field
    #: outside :data:`OPPORTUNITY_FIELDS` is answered 400 ``INVALID_FIELD``
    custom_fields: set[str] = field(default_factory=set)
    _cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- the org's data -------------------------------------------------------------------
    def put(self, obj: str, record: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Create or change a record (by ``Id``) at ``at``: its SystemModstamp moves."""
        old = self.objects[obj].get(record["Id"], {})
        new = {**old, **record, "IsDeleted": False, "SystemModstamp": stamp(at)}
        self.objects[obj][record["Id"]] = new
        return new

    def delete(self, obj: str, record_id: str, at: datetime) -> None:
        """Delete a record into the recycle bin (``queryAll`` still returns it); deleting an
        Opportunity deletes its OpportunityHistory too, as Salesforce does."""
        self.objects[obj][record_id].update(IsDeleted=True, SystemModstamp=stamp(at))
        if obj == "Opportunity":
            for h in self.objects["OpportunityHistory"].values():
                if h["OpportunityId"] == record_id:
                    h.update(IsDeleted=True, SystemModstamp=stamp(at))

    def live(self, obj: str) -> list[dict[str, Any]]:
        return [r for r in self.objects[obj].values() if not r["IsDeleted"]]

    def queries(self) -> list[Seen]:
        """The first page request of each query (``nextRecordsUrl`` requests left out)."""
        return [s for s in self.requests if s.soql]

    # -- answering ------------------------------------------------------------------------
    def _record(self, obj: str, r: dict[str, Any], selected: set[str]) -> dict[str, Any]:
        out = {
            "attributes": {
                "type": obj,
                "url": f"/services/data/v{VERSION}/sobjects/{obj}/{r['Id']}",
            }
        }
        for key, value in r.items():
            if key.endswith("__c") and key not in selected:  # a custom field not asked for
                continue
            if isinstance(value, dict):  # a relationship: Owner, Account
                value = {"attributes": {"type": value.get("type", key), "url": ""}, **value}
                value.pop("type", None)
            out[key] = value
        return out

    def _query(self, soql: str, all_rows: bool) -> dict[str, Any]:
        obj = re.search(r"\bFROM\s+(\w+)", soql).group(1)
        since = re.search(r"SystemModstamp\s*>\s*([\w:.+-]+)", soql)
        rows = [r for r in self.objects[obj].values() if all_rows or not r["IsDeleted"]]
        semi = re.search(r"OpportunityId IN \(SELECT Id FROM Opportunity WHERE", soql)
        if since and semi:  # the history of the deals changed since then
            deals = self.objects["Opportunity"]
            after = _parse(since.group(1))
            rows = [r for r in rows if _parse(deals[r["OpportunityId"]]["SystemModstamp"]) > after]
        elif since:
            rows = [r for r in rows if _parse(r["SystemModstamp"]) > _parse(since.group(1))]
        until = re.search(r"SystemModstamp\s*<=\s*([\w:.+-]+)", soql)
        if until and semi:
            deals = self.objects["Opportunity"]
            before = _parse(until.group(1))
            rows = [
                r for r in rows if _parse(deals[r["OpportunityId"]]["SystemModstamp"]) <= before
            ]
        elif until:
            rows = [r for r in rows if _parse(r["SystemModstamp"]) <= _parse(until.group(1))]
        order = re.search(r"ORDER BY (\w+)(?:, (\w+))?", soql)
        fields = [f for f in (order.groups() if order else ()) if f] + ["Id"]
        rows.sort(key=lambda r: tuple(r[f] for f in fields))
        selected = set(_selected(soql))
        records = [self._record(obj, r, selected) for r in rows]
        cursor = f"01gD0000002HU{next(self._ids):05d}"
        self._cursors[cursor] = records
        return self._page(cursor, 0, "queryAll" if all_rows else "query")

    def _page(self, cursor: str, start: int, endpoint: str) -> dict[str, Any]:
        records = self._cursors[cursor]
        end = start + self.page_size
        answer = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[start:end],
        }
        if end < len(records):
            answer["nextRecordsUrl"] = f"/services/data/v{VERSION}/{endpoint}/{cursor}-{end}"
        return answer

    def answer(self, seen: Seen, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        for fault in self.faults:
            if (fault.times is None or fault.used < fault.times) and fault.when(seen):
                fault.used += 1
                return fault.action
        parts = urlsplit(seen.path)
        if parts.path == "/services/oauth2/token" and seen.method == "POST":
            form = {k: v[0] for k, v in parse_qs(seen.body).items()}
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != REFRESH_TOKEN
            ):
                return (
                    400,
                    {},
                    {"error": "invalid_grant", "error_description": "expired access/refresh token"},
                )
            issued = str(int(datetime.now(UTC).timestamp() * 1000))
            return (
                200,
                {},
                {
                    "access_token": TOKEN,
                    "instance_url": self.url,
                    "id": f"{self.url}/id/00Dfake/005fake",
                    "token_type": "Bearer",
                    "issued_at": issued,
                    "signature": "fake=",
                },
            )
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return (
                401,
                {},
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            )
        if parts.path == f"/services/data/v{VERSION}/":  # the resources (and a Date header)
            base = f"/services/data/v{VERSION}"
            return (
                200,
                {},
                {
                    "sobjects": f"{base}/sobjects",
                    "query": f"{base}/query",
                    "queryAll": f"{base}/queryAll",
                },
            )
        m = re.fullmatch(rf"/services/data/v{re.escape(VERSION)}/(query|queryAll)/?", parts.path)
        if m and seen.soql:
            if seen.object == "Opportunity":
                known = OPPORTUNITY_FIELDS | self.custom_fields
                unknown = [f for f in _selected(seen.soql) if f not in known]
                if unknown:
                    message = (
                        f"\n{seen.soql[:60]}\n       ^\nERROR at Row:1:Column:8\nNo such column "
                        f"'{unknown[0]}' on entity 'Opportunity'. If you are attempting to use "
                        "a custom field, be sure to append the '__c' after the custom field "
                        "name. Please reference your WSDL or the describe call for the "
                        "appropriate names."
                    )
                    return 400, {}, [{"message": message, "errorCode": "INVALID_FIELD"}]
            return 200, {}, self._query(seen.soql, m.group(1) == "queryAll")
        m = re.fullmatch(
            rf"/services/data/v{re.escape(VERSION)}/(query|queryAll)/(01g\w+)-(\d+)", parts.path
        )
        if m and m.group(2) in self._cursors:
            return 200, {}, self._page(m.group(2), int(m.group(3)), m.group(1))
        return (
            404,
            {},
            [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
        )


def _selected(soql: str) -> list[str]:
    """The fields of the outer ``SELECT … FROM``."""
    m = re.match(r"\s*SELECT\s+(.*?)\s+FROM\s", soql, re.S)
    return [f.strip() for f in m.group(1).split(",")] if m else []


# -- the faults the tests inject ------------------------------------------------------------
def drop() -> str:
    return "drop"


def rate_limited(retry_after: float) -> tuple[int, dict[str, str], Any]:
    body = [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    return 429, {"Retry-After": f"{retry_after:g}"}, body


def limit_exceeded() -> tuple[int, dict[str, str], Any]:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    return 403, {}, body


def next_page(seen: Seen) -> bool:
    """A ``nextRecordsUrl`` request (page 2 or later)."""
    return seen.soql is None and "/query" in seen.path


def _handler(api: FakeSalesforce):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def date_time_string(self, timestamp: float | None = None) -> str:
            from email.utils import format_datetime

            return format_datetime(getattr(api, "now", None) or datetime.now(UTC), usegmt=True)

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            q = parse_qs(urlsplit(self.path).query).get("q")
            seen = Seen(method, self.path, q[0] if q else None, body)
            api.requests.append(seen)
            action = api.answer(seen, dict(self.headers))
            if action == "drop":
                self.close_connection = True
                self.connection.close()
                return
            status, headers, payload = action
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


class TLSServer:
    """Serve ``api`` on https://127.0.0.1:<port> with a certificate from a throw-away CA; the
    CA's PEM file is at ``ca_file``. Any fake CRM works as ``api``: it needs ``requests`` (a list
    the server appends each :class:`Seen` to), ``answer(seen, headers)`` returning ``"drop"`` or
    ``(status, headers, JSON payload)``, a ``url`` the server sets, and optionally ``now``."""

    def __init__(self, api: FakeSalesforce, folder: Path) -> None:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "fake-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        api.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.url = api.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TLSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
