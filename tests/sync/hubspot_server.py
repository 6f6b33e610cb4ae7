"""A small HubSpot on loopback: the CRM v3/v4 endpoints salesflow's connector reads, answering as
HubSpot's API reference documents them, so the real ``hubspot-api-client`` runs against it.

- ``POST /crm/v3/objects/{type}/search``: ``filterGroups`` on ``hs_lastmodifieddate`` (GT, GTE),
  sorted, ``limit`` and ``after``, with ``paging.next.after`` while more results remain;
- ``POST /crm/v3/objects/{type}/batch/read`` with ``propertiesWithHistory`` (newest change first);
- ``GET /crm/v3/objects/{type}?archived=true``: archived (deleted) objects with ``archivedAt``;
- ``GET /crm/v3/pipelines/deals``, ``GET /crm/v3/owners/``;
- ``POST /crm/v4/associations/{from}/deals/batch/read``.

Every request is recorded in ``requests``; ``rate_limit(n, retry_after)`` answers the next ``n``
requests 429 with ``Retry-After``; ``drop_after(n)`` closes the connection without an answer on
every request after the next ``n`` until ``heal()``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "pat-na1-test-token"
STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "false"),
    ("qualifiedtobuy", "Qualified To Buy", "false"),
    ("presentationscheduled", "Presentation Scheduled", "false"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "false"),
    ("contractsent", "Contract Sent", "false"),
    ("closedwon", "Closed Won", "true"),
    ("closedlost", "Closed Lost", "true"),
]
OWNERS = {"101": ("Ada", "Lovelace"), "102": ("Grace", "Hopper")}
EPOCH = "2026-01-01T00:00:00.000Z"
#: the deal properties every portal has; ``HubSpot.custom_properties`` adds the portal's own
DEAL_PROPERTIES = {
    "hs_object_id",
    "dealname",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "createdate",
    "closedate",
    "amount",
    "dealtype",
    "hs_analytics_source",
    "hs_lastmodifieddate",
}


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class HsObject:
    id: str
    created: datetime
    properties: dict[str, str | None]
    history: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # oldest first
    archived_at: datetime | None = None
    deals: list[str] = field(default_factory=list)  # associated deal ids (activities)

    @property
    def modified(self) -> datetime:
        return parse(self.properties["hs_lastmodifieddate"])


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class HubSpot:
    """The CRM's state and the server's behaviour; change it between syncs."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, HsObject]] = {
            "deals": {},
            "calls": {},
            "emails": {},
            "meetings": {},
        }
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._limited = 0
        self._retry_after = "1"
        self._drop_after: int | None = None
        #: the portal's custom deal properties; a deal answer leaves out any property requested
        #: that is neither one of these nor in :data:`DEAL_PROPERTIES`, as HubSpot does
        self.custom_properties: set[str] = set()

    # --- the CRM's data -------------------------------------------------------------------------

    def add_deal(self, deal_id: str, at: datetime, **props: str | None) -> None:
        """A deal created at ``at`` with ``dealstage``, ``amount``, ``hubspot_owner_id`` …"""
        deal = HsObject(deal_id, at, {"hs_object_id": deal_id, "createdate": iso(at)})
        self.objects["deals"][deal_id] = deal
        self.change_deal(deal_id, at, **{"pipeline": "default", **props})

    def change_deal(self, deal_id: str, at: datetime, **props: str | None) -> None:
        """Properties changed at ``at``: each change goes into the property's history."""
        deal = self.objects["deals"][deal_id]
        for name, value in props.items():
            deal.properties[name] = value
            deal.history.setdefault(name, []).append((value or "", at))
        deal.properties["hs_lastmodifieddate"] = iso(at)

    def archive(self, object_type: str, object_id: str, at: datetime) -> None:
        self.objects[object_type][object_id].archived_at = at

    def add_activity(
        self, object_type: str, activity_id: str, at: datetime, deal_id: str | None, owner: str
    ) -> None:
        props = {
            "hs_object_id": activity_id,
            "hs_timestamp": iso(at),
            "hubspot_owner_id": owner,
            "hs_lastmodifieddate": iso(at),
            "createdate": iso(at),
        }
        deals = [deal_id] if deal_id else []
        self.objects[object_type][activity_id] = HsObject(activity_id, at, props, deals=deals)

    # --- faults ---------------------------------------------------------------------------------

    def rate_limit(self, n: int, retry_after: str = "1") -> None:
        self._limited, self._retry_after = n, retry_after

    def drop_after(self, n: int) -> None:
        self._drop_after = n

    def heal(self) -> None:
        self._drop_after = None

    # --- what the server saw --------------------------------------------------------------------

    def searched_ids(self, object_type: str = "deals") -> list[str]:
        return [
            i["id"]
            for r in self.requests
            if r["path"] == f"/crm/v3/objects/{object_type}/batch/read"
            for i in r["body"]["inputs"]
        ]

    # --- answering ------------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        if path == "/crm/v3/pipelines/deals":
            return self._pipelines()
        if path.rstrip("/") == "/crm/v3/owners":
            return {"results": [self._owner(i, n) for i, n in OWNERS.items()]}
        if parts[:3] == ["crm", "v3", "objects"] and parts[3] in self.objects:
            kind = parts[3]
            if method == "POST" and parts[4:] == ["search"]:
                return self._search(kind, body)
            if method == "POST" and parts[4:] == ["batch", "read"]:
                return self._batch_read(kind, body)
            if method == "GET" and len(parts) == 4:
                return self._list(kind, query)
        if parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return self._associations(parts[3], parts[4], body)
        return None

    def _search(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        found = [o for o in self.objects[kind].values() if o.archived_at is None]
        for group in body.get("filterGroups") or []:
            for f in group["filters"]:
                assert f["propertyName"] == "hs_lastmodifieddate", f
                bound = datetime.fromtimestamp(int(f["value"]) / 1000, UTC)
                if f["operator"] == "GT":
                    found = [o for o in found if o.modified > bound]
                elif f["operator"] == "GTE":
                    found = [o for o in found if o.modified >= bound]
                elif f["operator"] == "LTE":
                    found = [o for o in found if o.modified <= bound]
                else:
                    raise AssertionError(f)
        for sort in body.get("sorts") or []:
            assert sort["propertyName"] == "hs_lastmodifieddate", sort
            found.sort(
                key=lambda o: (o.modified, int(o.id)), reverse=sort["direction"] == "DESCENDING"
            )
        start = int(body.get("after") or 0)
        limit = int(body.get("limit") or 10)
        page = found[start : start + limit]
        props = body.get("properties") or []
        doc: dict[str, Any] = {
            "total": len(found),
            "results": [self._object(o, props) for o in page],
        }
        if start + limit < len(found):
            doc["paging"] = {"next": {"after": str(start + limit), "link": "?after=x"}}
        return doc

    def _batch_read(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        props = body.get("properties") or []
        with_history = body.get("propertiesWithHistory") or []
        results = []
        for item in body["inputs"]:
            obj = self.objects[kind].get(item["id"])
            if obj is None or obj.archived_at is not None:
                continue
            if kind == "deals":
                props = [p for p in props if p in DEAL_PROPERTIES | self.custom_properties]
            doc = self._object(obj, props)
            if with_history:
                doc["propertiesWithHistory"] = {
                    p: [
                        {
                            "value": value,
                            "timestamp": iso(at),
                            "sourceType": "CRM_UI",
                            "sourceId": "userId:1",
                            "updatedByUserId": 1,
                        }
                        for value, at in reversed(obj.history.get(p, []))
                    ]
                    for p in with_history
                }
            results.append(doc)
        return {
            "status": "COMPLETE",
            "results": results,
            "startedAt": EPOCH,
            "completedAt": EPOCH,
        }

    def _list(self, kind: str, query: dict[str, list[str]]) -> dict[str, Any]:
        archived = query.get("archived", ["false"])[0].lower() == "true"
        found = sorted(
            (o for o in self.objects[kind].values() if (o.archived_at is not None) == archived),
            key=lambda o: int(o.id),
        )
        start = int(query.get("after", ["0"])[0])
        limit = int(query.get("limit", ["10"])[0])
        props = query.get("properties", [])
        doc: dict[str, Any] = {"results": []}
        for o in found[start : start + limit]:
            obj = self._object(o, props)
            if o.archived_at is not None:
                obj["archivedAt"] = iso(o.archived_at)
            doc["results"].append(obj)
        if start + limit < len(found):
            doc["paging"] = {"next": {"after": str(start + limit), "link": "?after=x"}}
        return doc

    def _associations(self, source: str, target: str, body: dict[str, Any]) -> dict[str, Any]:
        assert target == "deals"
        results = []
        for item in body["inputs"]:
            obj = self.objects[source].get(item["id"])
            if obj is None or not obj.deals:
                continue
            results.append(
                {
                    "from": {"id": obj.id},
                    "to": [
                        {
                            "toObjectId": int(d),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": 206, "label": None}
                            ],
                        }
                        for d in obj.deals
                    ],
                }
            )
        return {"status": "COMPLETE", "results": results, "startedAt": EPOCH, "completedAt": EPOCH}

    def _object(self, obj: HsObject, props: list[str]) -> dict[str, Any]:
        wanted = {"hs_object_id", "createdate", "hs_lastmodifieddate", *props}
        return {
            "id": obj.id,
            "properties": {p: obj.properties.get(p) for p in sorted(wanted)},
            "createdAt": iso(obj.created),
            "updatedAt": obj.properties["hs_lastmodifieddate"],
            "archived": obj.archived_at is not None,
        }

    def _pipelines(self) -> dict[str, Any]:
        stages = [
            {
                "id": sid,
                "label": label,
                "displayOrder": i,
                "metadata": {"isClosed": closed, "probability": "0.5"},
                "archived": False,
                "createdAt": EPOCH,
                "updatedAt": EPOCH,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for i, (sid, label, closed) in enumerate(STAGES)
        ]
        pipeline = {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "archived": False,
            "createdAt": EPOCH,
            "updatedAt": EPOCH,
            "stages": stages,
        }
        return {"results": [pipeline]}

    def _owner(self, owner_id: str, name: tuple[str, str]) -> dict[str, Any]:
        return {
            "id": owner_id,
            "email": f"{name[0].lower()}@example.com",
            "firstName": name[0],
            "lastName": name[1],
            "userId": int(owner_id),
            "type": "PERSON",
            "createdAt": EPOCH,
            "updatedAt": EPOCH,
            "archived": False,
        }


def _handler(crm: HubSpot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(url.query)
            with crm.lock:
                crm.requests.append(
                    {"method": method, "path": url.path, "query": query, "body": body}
                )
                if crm._drop_after is not None:
                    if crm._drop_after <= 0:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    crm._drop_after -= 1
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(
                        401, {"status": "error", "category": "INVALID_AUTHENTICATION"}
                    )
                if crm._limited > 0:
                    crm._limited -= 1
                    return self._send(
                        429,
                        {
                            "status": "error",
                            "message": "You have reached your secondly limit.",
                            "errorType": "RATE_LIMIT",
                            "category": "RATE_LIMITS",
                            "policyName": "SECONDLY",
                        },
                        {"Retry-After": crm._retry_after},
                    )
                doc = crm.answer(method, url.path, query, body)
            if doc is None:
                return self._send(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})
            self._send(200, doc)

        def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


class HubSpotServer:
    """``with HubSpotServer() as hs:`` serves ``hs.crm`` at ``hs.base_url`` on 127.0.0.1."""

    def __init__(self) -> None:
        self.crm = HubSpot()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.crm))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HubSpotServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
