"""The HubSpot connector: what changed in HubSpot since the last sync, as a :class:`Pull`.

It talks to HubSpot through ``hubspot-api-client`` (the optional extra ``salesflow[hubspot]``):

- deals changed since the high-water mark, through the CRM search API (``hs_lastmodifieddate``
  greater than the mark, oldest first, page by page with ``paging.next.after``);
- their stage, amount, close date and owner history (a batch read with ``propertiesWithHistory``),
  which becomes ``stage_events`` and ``opportunity_history``;
- calls, e-mails and meetings changed since the mark, with the deal each one is associated with;
- pipelines and their stages (HubSpot stores a stage's id on a deal; salesflow wants its label),
  and owners (an owner id becomes the owner's name);
- deals and activities deleted (archived) since the mark.

Records carry the column names of HubSpot's own exports (``Record ID``, ``Deal Stage``,
``Create Date`` …), so ``ingest/presets/hubspot.toml`` maps a sync exactly as it maps an export.

``[sync.hubspot] base_url`` points the client at another host (a sandbox, or the tests' local
server); the private-app token comes from ``HUBSPOT_ACCESS_TOKEN`` and never from salesflow.toml.
``[sync.hubspot.properties]`` names extra deal properties (``region = "deal_region"``), read with
the deals and written as extra ``opportunities`` columns under the names chosen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, SalesflowError
from salesflow.sync.crm import Pull, SyncResult, TableChanges
from salesflow.sync.http import RetryPolicy

if TYPE_CHECKING:
    from salesflow.settings import Settings
    from salesflow.workspace import Workspace

__all__ = [
    "ACTIVITY_TYPES",
    "DEAL_PROPERTIES",
    "HISTORY_PROPERTIES",
    "HubSpotSettings",
    "hubspot_settings",
    "pull_hubspot",
    "sync_hubspot",
]

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
DEFAULT_BASE_URL = "https://api.hubapi.com"
KEYS = ("base_url", "access_token_file", "retries", "backoff_seconds", "properties")
PROPERTIES = "[sync.hubspot.properties]"
PROPERTIES_EXAMPLE = f'{PROPERTIES}\nregion = "deal_region"'
SECRET_KEYS = ("access_token", "token", "api_key", "private_app_token", "client_secret")
EXAMPLE = '[sync.hubspot]\nbase_url = "https://api.hubapi.com"   # optional'

# HubSpot deal property -> the column of HubSpot's deals export that the preset maps
DEAL_PROPERTIES = {
    "dealname": "Deal Name",
    "dealstage": "Deal Stage",
    "pipeline": "Pipeline",
    "hubspot_owner_id": "Deal owner",
    "createdate": "Create Date",
    "closedate": "Close Date",
    "amount": "Amount",
    "dealtype": "Deal Type",
    "hs_analytics_source": "Original Source Type",
    "hs_lastmodifieddate": "Last Modified Date",
}
# the properties whose every change becomes a row of opportunity_history
HISTORY_PROPERTIES = ("dealstage", "amount", "closedate", "hubspot_owner_id")
HISTORY_COLUMNS = {
    "dealstage": "Deal Stage",
    "amount": "Amount",
    "closedate": "Close Date",
    "hubspot_owner_id": "Deal owner",
}
# HubSpot object type -> salesflow activity type
ACTIVITY_TYPES = {"calls": "call", "emails": "email", "meetings": "meeting"}
ACTIVITY_PROPERTIES = ("hs_timestamp", "hubspot_owner_id", "hs_lastmodifieddate")

PAGE = 100  # the most the search and list endpoints return per page
BATCH = 50  # the most deals a batch read with propertiesWithHistory returns
ASSOCIATION_BATCH = 1000
TIMEOUT = 60.0  # seconds for one request
# HubSpot's search endpoint stops paging at 10,000 results; past that the search starts again
# from the last modification time seen
SEARCH_LIMIT = 10_000


@dataclass(frozen=True)
class HubSpotSettings:
    """``[sync.hubspot]``, checked, with the token read from the environment."""

    base_url: str
    token: str
    retries: int = 5  # tries in all for one request
    backoff_seconds: float = 1.0  # before the first retry, doubled each time
    #: ``(column, deal property)``: extra deal columns from ``[sync.hubspot.properties]``
    properties: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # never print a token
        return f"HubSpotSettings(base_url={self.base_url!r})"


def hubspot_settings(settings: Settings, env: Mapping[str, str] | None = None) -> HubSpotSettings:
    """``[sync.hubspot]`` and ``HUBSPOT_ACCESS_TOKEN``, with a sentence naming what to fix."""
    env = os.environ if env is None else env
    where = f"{settings.config_path} [sync.hubspot]"
    raw = settings.section("sync").get("hubspot", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[sync.hubspot] must be a section", where=where, hint=f"e.g. {EXAMPLE}")
    secret = next((k for k in raw if k.lower() in SECRET_KEYS), None)
    if secret is not None:
        raise ConfigError(
            f"salesflow.toml holds the HubSpot secret {secret!r} in clear",
            where=where,
            hint=f"Remove it from the file and set the private app's token in the {TOKEN_ENV} "
            "environment variable instead",
        )
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[sync.hubspot] has no setting {unknown[0]!r}",
            where=where,
            hint=f"Use {', '.join(KEYS)}",
        )
    from salesflow.sync.config import extra_fields

    properties = extra_fields(
        raw.get("properties"),
        PROPERTIES,
        f"{settings.config_path} {PROPERTIES}",
        crm="HubSpot",
        field_word="deal property",
        example=PROPERTIES_EXAMPLE,
        taken=("Record ID", *DEAL_PROPERTIES.values()),
    )
    base_url = raw.get("base_url", DEFAULT_BASE_URL)
    if not isinstance(base_url, str) or not (
        base_url.startswith("https://") or _loopback_http(base_url)
    ):
        # the token goes with every request: never in clear across a network
        raise ConfigError(
            "base_url must be a web address starting with https:// (http:// only on this "
            "machine, e.g. a test server on 127.0.0.1)",
            where=where,
            hint=f"e.g. {EXAMPLE}",
        )
    token = env.get(TOKEN_ENV, "").strip() or _token_file(
        raw.get("access_token_file"), settings.workspace, where
    )
    if not token:
        raise ConfigError(
            f"No HubSpot access token: {TOKEN_ENV} is not set",
            where=str(settings.config_path),
            hint="Create a private app in HubSpot (Settings > Integrations > Private apps) with "
            f"the scopes listed in docs/crm-hubspot.md, and put its token in {TOKEN_ENV} (or in "
            "a file only you can read, named by [sync.hubspot] access_token_file)",
        )
    return HubSpotSettings(
        base_url=base_url.rstrip("/"),
        token=token,
        retries=_number(raw.get("retries", 5), "retries", where, int, 1),
        backoff_seconds=_number(
            raw.get("backoff_seconds", 1.0), "backoff_seconds", where, float, 0
        ),
        properties=properties,
    )


def _loopback_http(url: str) -> bool:
    """``http://`` to this machine (127.0.0.0/8, ::1 or localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    if not url.startswith("http://"):
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token_file(value: Any, workspace: Path, where: str) -> str | None:
    """The token in ``access_token_file``, which only its owner may read."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("access_token_file must be a file name", where=where)
    path = (workspace / Path(value).expanduser()).resolve()
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise ConfigError(
                f"{path} holds the HubSpot token but others can read it",
                where=where,
                hint=f"Make it readable by you alone: chmod 600 {path}",
            )
        return path.read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise ConfigError(
            f"The HubSpot token file {path} cannot be read ({exc.strerror or exc})",
            where=where,
            hint="Check the file name in access_token_file and its permissions",
        ) from exc


def _number(value: Any, key: str, where: str, kind: type, least: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < least:
        raise ConfigError(
            f"{key} must be a number of at least {least:g}", where=where, hint=f"e.g. {key} = 5"
        )
    if kind is int and not float(value).is_integer():
        raise ConfigError(f"{key} must be a whole number", where=where, hint=f"e.g. {key} = 5")
    return kind(value)


def pull_hubspot(
    config: HubSpotSettings,
    high_water_mark: str | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
) -> Pull:
    """Everything that changed in HubSpot after ``high_water_mark`` (ISO-8601; ``None``: all).

    Rate limits (429) are waited out as ``Retry-After`` says; server errors and dropped
    connections are tried ``config.retries`` times in all, with a pause of
    ``config.backoff_seconds`` doubling each time. Anything else, or running out of attempts, raises a :class:`SalesflowError` and
    returns nothing: a sync applies a whole pull or none of it.
    """
    say = progress or (lambda _m: None)
    import urllib3

    policy = RetryPolicy(
        service="HubSpot",
        address_setting="[sync.hubspot] base_url",
        attempts=config.retries,
        backoff=config.backoff_seconds,
        transient=(OSError, urllib3.exceptions.HTTPError),
        sleep=sleep,
        on_wait=progress,
    )
    api = _Api(_client(config), policy)
    say("Asking HubSpot what changed")
    since = _parse_instant(high_water_mark) if high_water_mark else None
    kinds = ("deals", *ACTIVITY_TYPES)
    # The newest change of each kind, and what was deleted, first: everything up to the newest
    # of them is read now, anything changed later (even while this sync reads) comes next time.
    latest = {kind: api.latest(kind, since) for kind in kinds}
    archived = {kind: api.archived(kind, since) for kind in kinds}
    seen = [at for at in latest.values() if at is not None]
    seen += [at for ids in archived.values() for at in ids.values()]
    if not seen:
        tables = {name: TableChanges() for name in _TABLES}
        return Pull("hubspot", tables, high_water_mark, requests=api.requests)
    until = max(seen)

    tables = {name: TableChanges() for name in _TABLES}
    owners = api.owner_names()
    if latest["deals"] is not None:
        say("Reading the deals that changed, with their history")
        stages = api.stage_labels()
        changed = [d.id for d in api.changed("deals", ["hs_lastmodifieddate"], since, until)]
        extra = config.properties
        for deal in api.with_history(changed, [name for _column, name in extra]):
            record = _deal_record(deal, stages, owners)
            props = deal.properties or {}
            for column, name in extra:
                if name not in props:  # HubSpot leaves out a property it does not have
                    raise ConfigError(
                        f"HubSpot has no deal property {name!r}, so {PROPERTIES} {column} = "
                        f'"{name}" cannot be synced; nothing was changed',
                        where=config.base_url,
                        hint="Use the property's internal name (HubSpot: Settings > Data "
                        "Management > Properties > Deal properties > the property > the </> "
                        f"internal name, e.g. deal_region), or remove it from {PROPERTIES}",
                    )
                record[column] = props[name]
            tables["opportunities"].records.append(record)
            tables["stage_events"].records.extend(_stage_events(deal, stages))
            tables["opportunity_history"].records.extend(_history(deal, stages, owners))
    for object_type, kind in ACTIVITY_TYPES.items():
        if latest[object_type] is None:
            continue
        say(f"Reading the {object_type} that changed")
        found = list(api.changed(object_type, list(ACTIVITY_PROPERTIES), since, until))
        linked = api.deal_links(object_type, [a.id for a in found])
        tables["activities"].records.extend(
            _activity_record(a, kind, linked.get(a.id), owners) for a in found
        )
    deleted = {kind: {i for i, at in ids.items() if at <= until} for kind, ids in archived.items()}
    tables["opportunities"].deleted = deleted.pop("deals")
    tables["activities"].deleted = set().union(*deleted.values())
    return Pull(crm="hubspot", tables=tables, high_water_mark=_iso(until), requests=api.requests)


_TABLES = ("opportunities", "stage_events", "opportunity_history", "activities")


def sync_hubspot(
    workspace: Workspace,
    *,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> SyncResult:
    """Fetch what changed in HubSpot since the last sync and apply it, all or nothing; the rows
    per table and the warnings. A failure is logged, raised, and changes nothing."""
    from salesflow.sync.apply import run_sync, start_mark

    def pull(mark: str | None) -> Pull:
        config = hubspot_settings(workspace.settings, env)
        say = progress or (lambda _m: None)
        mark = start_mark(workspace, "hubspot", mark, config.properties, say, PROPERTIES)
        changes = pull_hubspot(config, mark, progress=progress)
        changes.fields = dict(config.properties)
        return changes

    return run_sync(workspace, "hubspot", pull, now=now, progress=progress)


# --- talking to HubSpot -------------------------------------------------------------------------


def _client(config: HubSpotSettings) -> Any:
    try:
        import hubspot
        from urllib3.util.retry import Retry
    except ImportError as exc:
        raise ConfigError(
            "Syncing with HubSpot needs the HubSpot client library, which is not installed",
            hint="Install it with: pip install 'salesflow[hubspot]'",
        ) from exc
    # no retries inside urllib3: _Api retries, waits out 429s and counts every request
    return hubspot.Client.create(
        access_token=config.token, host=config.base_url, retry=Retry(total=False)
    )


@dataclass
class _Answer:
    """One request's outcome as :class:`~salesflow.sync.http.RetryPolicy` reads it."""

    status_code: int
    headers: Mapping[str, str]
    text: str
    value: Any = None
    error: Exception | None = None


class _Api:
    """The few HubSpot endpoints salesflow reads, each call retried as ``policy`` says."""

    def __init__(self, client: Any, policy: RetryPolicy) -> None:
        self.client = client
        self.policy = policy
        self.requests = 0

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``: 429 waited out, transient failures retried with backoff,
        anything else a :class:`SalesflowError` saying what could not be read."""

        def send() -> _Answer:
            self.requests += 1
            try:
                return _Answer(200, {}, "", value=fn(*args, _request_timeout=TIMEOUT, **kwargs))
            except Exception as exc:
                status = getattr(exc, "status", None)
                if not type(exc).__module__.startswith("hubspot") or not status:
                    raise  # a dropped connection (transient for the policy), or a bug
                headers = dict(getattr(exc, "headers", None) or {})
                return _Answer(status, headers, str(getattr(exc, "body", "") or ""), error=exc)

        try:
            answer = self.policy.call(send, what=what)
        except SalesflowError:
            raise
        except Exception as exc:  # an answer the client could not read, an SSL failure …
            raise _failure(what, exc) from exc
        if answer.error is not None:
            raise _failure(what, answer.error)
        return answer.value

    def stage_labels(self) -> dict[str, str]:
        """Stage id -> label and pipeline id -> label, over every deal pipeline."""
        found = self.call(
            "the deal pipelines", self.client.crm.pipelines.pipelines_api.get_all, "deals"
        )
        labels = {}
        for pipeline in found.results:
            labels[f"pipeline:{pipeline.id}"] = pipeline.label
            for stage in sorted(pipeline.stages, key=lambda s: s.display_order):
                labels[stage.id] = stage.label
        return labels

    def owner_names(self) -> dict[str, str]:
        """Owner id -> "First Last" (the e-mail address when HubSpot has no name)."""
        names, after = {}, None
        while True:
            page = self.call(
                "the deal owners",
                self.client.crm.owners.owners_api.get_page,
                limit=PAGE,
                after=after,
            )
            for owner in page.results:
                name = " ".join(p for p in (owner.first_name, owner.last_name) if p)
                names[str(owner.id)] = name or owner.email or str(owner.id)
            after = _next(page)
            if after is None:
                return names

    def latest(self, object_type: str, since: datetime | None) -> datetime | None:
        """When an object of ``object_type`` was last modified, if after ``since``."""
        from hubspot.crm.objects import PublicObjectSearchRequest

        request = PublicObjectSearchRequest(
            filter_groups=_modified_between(since, None),
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
            properties=["hs_lastmodifieddate"],
            limit=1,
        )
        page = self.call(
            f"the latest changes to the {object_type}",
            self.client.crm.objects.search_api.do_search,
            object_type,
            request,
        )
        return _modified(page.results[0]) if page.results else None

    def changed(
        self, object_type: str, properties: list[str], since: datetime | None, until: datetime
    ) -> Iterator[Any]:
        """Every object of ``object_type`` modified after ``since`` and by ``until``, oldest
        change first."""
        from hubspot.crm.objects import PublicObjectSearchRequest

        seen: set[str] = set()
        while True:
            after, restart, last = None, False, None
            while True:
                request = PublicObjectSearchRequest(
                    filter_groups=_modified_between(since, until),
                    sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                    properties=properties,
                    limit=PAGE,
                    after=after,
                )
                page = self.call(
                    f"the {object_type} changed since the last sync",
                    self.client.crm.objects.search_api.do_search,
                    object_type,
                    request,
                )
                for found in page.results:
                    if found.id not in seen:
                        seen.add(found.id)
                        last = _modified(found)
                        yield found
                after = _next(page)
                if after is None:
                    break
                if int(after) >= SEARCH_LIMIT:  # the search pages no further: search again
                    restart = True
                    break
            if not restart or last is None:
                return
            # one millisecond back, so objects changed in the same millisecond are not skipped
            since = last - timedelta(milliseconds=1)

    def with_history(self, ids: list[str], extra: Iterable[str] = ()) -> list[Any]:
        """The deals ``ids`` with their properties (:data:`DEAL_PROPERTIES` and ``extra``) and
        the history of :data:`HISTORY_PROPERTIES`."""
        wanted = list(dict.fromkeys([*DEAL_PROPERTIES, *extra]))
        from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        deals = []
        for chunk in _chunks(ids, BATCH):
            request = BatchReadInputSimplePublicObjectId(
                properties=wanted,
                properties_with_history=list(HISTORY_PROPERTIES),
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
            )
            found = self.call(
                "the deals' stage history",
                self.client.crm.objects.batch_api.read,
                "deals",
                request,
                archived=False,
            )
            deals.extend(found.results)
        return sorted(deals, key=lambda d: _id_order(str(d.id)))

    def deal_links(self, object_type: str, ids: list[str]) -> dict[str, str]:
        """Activity id -> the id of the (first) deal it is associated with."""
        from hubspot.crm.associations.v4 import (
            BatchInputPublicFetchAssociationsBatchRequest,
            PublicFetchAssociationsBatchRequest,
        )

        links: dict[str, str] = {}
        for chunk in _chunks(ids, ASSOCIATION_BATCH):
            request = BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in chunk]
            )
            found = self.call(
                f"the deals of the {object_type}",
                self.client.crm.associations.v4.batch_api.get_page,
                object_type,
                "deals",
                request,
            )
            for result in found.results:
                deals = sorted((str(t.to_object_id) for t in result.to), key=_id_order)
                if deals:
                    links[str(result._from.id)] = deals[0]
        return links

    def archived(self, object_type: str, since: datetime | None) -> dict[str, datetime]:
        """The objects of ``object_type`` archived (deleted) after ``since``: id -> when."""
        ids: dict[str, datetime] = {}
        after = None
        while True:
            page = self.call(
                f"the deleted {object_type}",
                self.client.crm.objects.basic_api.get_page,
                object_type,
                limit=PAGE,
                after=after,
                archived=True,
                properties=["hs_lastmodifieddate"],
            )
            for found in page.results:
                at = _aware(found.archived_at or found.updated_at)
                if since is None or at > since:
                    ids[str(found.id)] = at
            after = _next(page)
            if after is None:
                return ids


def _modified_between(since: datetime | None, until: datetime | None) -> list[Any]:
    """The search filter ``since < hs_lastmodifieddate <= until`` (either end may be open)."""
    from hubspot.crm.objects import Filter, FilterGroup

    filters = [
        Filter(property_name="hs_lastmodifieddate", operator=op, value=_millis(at))
        for op, at in (("GT", since), ("LTE", until))
        if at is not None
    ]
    return [FilterGroup(filters=filters)] if filters else []


def _millis(at: datetime) -> str:
    return str(round(at.timestamp() * 1000))


def _failure(what: str, exc: Exception) -> SalesflowError:
    status = getattr(exc, "status", None)
    if status == 401:
        return ConfigError(
            f"HubSpot refused the access token while salesflow read {what}: the token is "
            "wrong, or it was rotated or its private app deleted",
            hint="Copy the current token (HubSpot: Settings > Integrations > Private apps > "
            f"your app > Auth > Show token) into {TOKEN_ENV}, or into the file "
            "[sync.hubspot] access_token_file names, then sync again; nothing was changed",
        )
    if status == 403:
        return ConfigError(
            f"HubSpot does not let this private app read {what}",
            hint="Give the private app the scopes listed in docs/crm-hubspot.md",
        )
    if isinstance(status, int) and status:
        reason = f"HubSpot answered {status} {getattr(exc, 'reason', '') or ''}".strip()
    else:
        reason = f"its answer could not be read ({type(exc).__name__}: {exc})"
    return SalesflowError(
        f"The HubSpot sync stopped while reading {what}: {reason}",
        hint="Nothing was changed; the next sync starts again from the same point",
    )


# --- HubSpot objects -> export rows -------------------------------------------------------------


def _deal_record(deal: Any, stages: dict[str, str], owners: dict[str, str]) -> dict[str, Any]:
    props = deal.properties or {}
    record: dict[str, Any] = {"Record ID": str(deal.id)}
    for prop, column in DEAL_PROPERTIES.items():
        record[column] = props.get(prop)
    record["Deal Stage"] = _label(props.get("dealstage"), stages)
    pipeline = props.get("pipeline")
    record["Pipeline"] = stages.get(f"pipeline:{pipeline}", pipeline) if pipeline else None
    record["Deal owner"] = _owner(props.get("hubspot_owner_id"), owners)
    return record


def _stage_events(deal: Any, stages: dict[str, str]) -> list[dict[str, Any]]:
    """One row per time the deal entered a stage (HubSpot lists the newest change first)."""
    changes = (deal.properties_with_history or {}).get("dealstage") or []
    rows = {}
    for change in changes:
        if not change.value:
            continue
        at = _iso(_aware(change.timestamp))
        stage = _label(change.value, stages)
        rows[(stage, at)] = {"Record ID": str(deal.id), "Deal Stage": stage, "Timestamp": at}
    return [rows[k] for k in sorted(rows, key=lambda k: (k[1], k[0]))]


def _history(deal: Any, stages: dict[str, str], owners: dict[str, str]) -> list[dict[str, Any]]:
    """One row per moment any of :data:`HISTORY_PROPERTIES` changed, with every value as it
    stood after that moment."""
    by_property = deal.properties_with_history or {}
    moments: dict[datetime, dict[str, Any]] = {}
    for prop in HISTORY_PROPERTIES:
        for change in by_property.get(prop) or []:
            moments.setdefault(_aware(change.timestamp), {})[prop] = change.value
    rows, current = [], dict.fromkeys(HISTORY_PROPERTIES)
    for at in sorted(moments):
        current.update(moments[at])
        row = {"Record ID": str(deal.id), "Timestamp": _iso(at)}
        for prop, column in HISTORY_COLUMNS.items():
            row[column] = current[prop] or None
        row["Deal Stage"] = _label(current["dealstage"], stages)
        row["Deal owner"] = _owner(current["hubspot_owner_id"], owners)
        rows.append(row)
    return rows


def _activity_record(
    activity: Any, kind: str, deal_id: str | None, owners: dict[str, str]
) -> dict[str, Any]:
    props = activity.properties or {}
    return {
        "Activity ID": str(activity.id),
        "Associated Deal ID": deal_id,
        "Activity type": kind,
        "Activity date": props.get("hs_timestamp") or _iso(_aware(activity.created_at)),
        "Activity assigned to": _owner(props.get("hubspot_owner_id"), owners),
    }


def _label(stage_id: str | None, stages: dict[str, str]) -> str | None:
    return stages.get(stage_id, stage_id) if stage_id else None


def _owner(owner_id: str | None, owners: dict[str, str]) -> str | None:
    return owners.get(str(owner_id), str(owner_id)) if owner_id else None


def _modified(obj: Any) -> datetime:
    value = (obj.properties or {}).get("hs_lastmodifieddate")
    if value:
        return _parse_instant(value)
    return _aware(obj.updated_at)


def _parse_instant(value: str) -> datetime:
    try:
        if value.isdigit():  # milliseconds since 1970, as HubSpot sometimes writes them
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise SalesflowError(
            f"{value!r} is not a moment in time",
            hint="The HubSpot sync's high-water mark or a modification date is damaged",
        ) from exc


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _next(page: Any) -> str | None:
    paging = getattr(page, "paging", None)
    nxt = getattr(paging, "next", None) if paging else None
    return getattr(nxt, "after", None) if nxt else None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _id_order(value: str) -> tuple[int, str]:
    return (0, f"{int(value):020d}") if value.isdigit() else (1, value)
