"""The Salesforce connector: what changed since the last sync, through ``simple-salesforce``.

One ``queryAll`` per object (Opportunity, Task, Event) with ``WHERE SystemModstamp > <mark> AND
SystemModstamp <= <end>``, following ``nextRecordsUrl`` page by page. ``<end>`` is Salesforce's
clock when the sync starts and becomes the next mark, so every object's window ends at the same
moment and a change made during the sync comes next time. ``queryAll`` also returns the records deleted since the
mark (``IsDeleted = true``, kept in the recycle bin for 15 days): a deleted deal or activity goes to
the pull's ``deleted`` ids. OpportunityHistory is read whole for each deal that changed (every
history row is written with a change of its deal): its rows feed ``opportunity_history``, and the
rows where the stage changed feed ``stage_events`` — so a deal's stage events after any number of
syncs are those a first, full sync would give. The records keep Salesforce's
field names, as ``ingest/presets/salesforce.toml`` maps them, and :func:`salesflow.sync.apply.apply_pull`
writes them. Settings: ``[sync.salesforce]`` (see :func:`salesforce_settings`, docs/crm-salesforce.md);
``[sync.salesforce.fields]`` names extra Opportunity fields (``region = "Region__c"``), added to the
query and written as extra ``opportunities`` columns under the names chosen.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, SalesflowError
from salesflow.sync.crm import Pull, SyncResult, TableChanges
from salesflow.sync.http import RetryPolicy, retrying_session

if TYPE_CHECKING:
    from salesflow.settings import Settings
    from salesflow.workspace import Workspace

__all__ = ["QUERIES", "SalesforceSettings", "fetch", "salesforce_settings", "sync_salesforce"]

DEFAULT_VERSION = "60.0"
DEFAULT_LOGIN = "https://login.salesforce.com"
KEYS = (
    "instance_url",
    "api_version",
    "login_url",
    "client_id",
    "refresh_token_file",
    "access_token_file",
    "retries",
    "backoff_seconds",
    "fields",
)
#: settings that would put a secret in salesflow.toml in clear
SECRETS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "security_token",
    "session_id",
    "token",
)
EXAMPLE = '[sync.salesforce]\ninstance_url = "https://yourcompany.my.salesforce.com"'
FIELDS = "[sync.salesforce.fields]"
FIELDS_EXAMPLE = f'{FIELDS}\nregion = "Region__c"'
#: the fields every synced deal carries, as :func:`_opportunity` names them
OPPORTUNITY_KEYS = (
    "Id",
    "Name",
    "Account Name",
    "Opportunity Owner",
    "StageName",
    "Amount",
    "CloseDate",
    "CreatedDate",
    "LeadSource",
    "Type",
)

#: object -> fields; every query adds IsDeleted and SystemModstamp (OpportunityHistory: see
#: :func:`_history_soql`)
QUERIES = {
    "Opportunity": (
        "Id, Name, Account.Name, Owner.Name, StageName, Amount, CloseDate, CreatedDate, "
        "LeadSource, Type"
    ),
    "OpportunityHistory": "Id, OpportunityId, CreatedDate, StageName, Amount, CloseDate, "
    "ForecastCategory",
    "Task": "Id, WhatId, Owner.Name, Type, TaskSubtype, ActivityDate, CreatedDate",
    "Event": "Id, WhatId, Owner.Name, Type, ActivityDateTime, CreatedDate",
}
OPPORTUNITY_PREFIX = "006"  # the key prefix of every Opportunity id
MARK = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")  # a SOQL dateTime literal, UTC


@dataclass(frozen=True)
class SalesforceSettings:
    """``[sync.salesforce]``, checked, with the access token (or how to get one)."""

    instance_url: str
    api_version: str = DEFAULT_VERSION
    access_token: str | None = None
    login_url: str = DEFAULT_LOGIN
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    retries: int = 5
    backoff_seconds: float = 1.0
    #: ``(column, Opportunity field)``: extra deal columns from ``[sync.salesforce.fields]``
    fields: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:  # never print a token
        return f"SalesforceSettings(instance_url={self.instance_url!r})"


def salesforce_settings(
    settings: Settings, env: Mapping[str, str] | None = None
) -> SalesforceSettings:
    """The ``[sync.salesforce]`` section and the credentials, from the environment or an
    owner-only file; a secret written in ``salesflow.toml`` is refused."""
    env = os.environ if env is None else env
    where = f"{settings.config_path} [sync.salesforce]"
    raw = settings.section("sync").get("salesforce")
    if not isinstance(raw, Mapping) or "instance_url" not in raw:
        missing = "has no instance_url" if isinstance(raw, Mapping) else "is missing"
        raise ConfigError(
            f"salesflow does not know which Salesforce org to sync from: [sync.salesforce] "
            f"{missing} in salesflow.toml",
            where=str(settings.config_path),
            hint="Add your org's address (in Salesforce: Setup > My Domain, the address under "
            f"'Current My Domain URL'):\n{EXAMPLE}",
        )
    secret = sorted(k for k in raw if k.lower() in SECRETS)
    if secret:
        raise ConfigError(
            f"{secret[0]} is a secret and must not be written in salesflow.toml, where anyone "
            "who sees the file can read it",
            where=where,
            hint="Remove it and set SALESFORCE_ACCESS_TOKEN (or SALESFORCE_REFRESH_TOKEN) in the "
            "environment, or name a file only you can read with access_token_file",
        )
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[sync.salesforce] has no setting {unknown[0]!r}",
            where=where,
            hint=f"Use {', '.join(KEYS)}",
        )
    url = _url(raw["instance_url"], "instance_url", where)
    from salesflow.sync.config import extra_fields

    fields = extra_fields(
        raw.get("fields"),
        FIELDS,
        f"{settings.config_path} {FIELDS}",
        crm="Salesforce",
        field_word="Opportunity field",
        example=FIELDS_EXAMPLE,
        taken=OPPORTUNITY_KEYS,
    )
    base = settings.workspace
    access = env.get("SALESFORCE_ACCESS_TOKEN") or _secret_file(
        raw.get("access_token_file"), "access_token_file", base, where
    )
    refresh = env.get("SALESFORCE_REFRESH_TOKEN") or _secret_file(
        raw.get("refresh_token_file"), "refresh_token_file", base, where
    )
    client_id = raw.get("client_id") or env.get("SALESFORCE_CLIENT_ID")
    if refresh and not client_id and not access:
        raise ConfigError(
            "A Salesforce refresh token is set but no client_id: salesflow cannot renew the "
            "access token without the connected app's consumer key",
            where=where,
            hint='Add client_id = "3MVG..." to [sync.salesforce] (Setup > App Manager > your '
            "connected app > View > Consumer Key), or set SALESFORCE_CLIENT_ID",
        )
    if not access and not (refresh and client_id):
        raise ConfigError(
            "No Salesforce access token: the environment variable SALESFORCE_ACCESS_TOKEN is "
            "not set, and [sync.salesforce] names no access_token_file or refresh_token_file",
            where=where,
            hint="Set SALESFORCE_ACCESS_TOKEN (for example the token `sf org display "
            "--target-org you@company.com` prints), or for a connection that renews itself set "
            "SALESFORCE_REFRESH_TOKEN and client_id (your connected app's consumer key); see "
            "docs/crm-salesforce.md",
        )
    return SalesforceSettings(
        instance_url=url,
        api_version=_version(raw.get("api_version", DEFAULT_VERSION), where),
        access_token=access or None,
        login_url=_url(raw.get("login_url", DEFAULT_LOGIN), "login_url", where),
        client_id=client_id,
        client_secret=env.get("SALESFORCE_CLIENT_SECRET") or None,
        refresh_token=refresh or None,
        retries=_number(raw.get("retries", 5), "retries", where, int, 1),
        backoff_seconds=_number(
            raw.get("backoff_seconds", 1.0), "backoff_seconds", where, float, 0
        ),
        fields=fields,
    )


def _url(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("https://"):
        # simple-salesforce always speaks https to instance_url, and a token must not cross the
        # network in clear
        raise ConfigError(
            f"{key} must be a web address starting with https://", where=where, hint=EXAMPLE
        )
    return value.rstrip("/")


def _version(value: Any, where: str) -> str:
    text = str(value).removeprefix("v")
    try:
        float(text)
    except ValueError:
        raise ConfigError(
            f"api_version {value!r} is not a Salesforce API version",
            where=where,
            hint='e.g. "60.0"',
        ) from None
    return text


def _number(value: Any, key: str, where: str, kind: type, least: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < least:
        raise ConfigError(f"{key} must be a number of at least {least}", where=where)
    return kind(value)


def _secret_file(value: Any, key: str, base: Path, where: str) -> str | None:
    """A token kept in a file only its owner can read (mode 600)."""
    if value is None:
        return None
    path = (base / Path(str(value)).expanduser()).resolve()
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} can be read by other users, so it must not hold a Salesforce token",
                where=where,
                hint=f"Make it yours alone: chmod 600 {path}",
            )
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"The token file {path} cannot be read ({exc.strerror or exc})",
            where=f"{where} {key}",
            hint="Check the file exists and belongs to the user running salesflow",
        ) from exc
    if not token:
        raise ConfigError(f"The token file {path} is empty", where=f"{where} {key}")
    return token


def sync_salesforce(
    workspace: Workspace,
    *,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
) -> SyncResult:
    """Fetch what changed in Salesforce since the last sync and apply it, all or nothing."""
    from salesflow.sync.apply import run_sync, start_mark

    def pull(mark: str | None) -> Pull:
        config = salesforce_settings(workspace.settings, env)
        say = progress or (lambda _m: None)
        mark = start_mark(workspace, "salesforce", mark, config.fields, say, FIELDS)
        changes = fetch(config, mark, progress=progress)
        changes.fields = dict(config.fields)
        return changes

    return run_sync(workspace, "salesforce", pull, now=now, progress=progress)


def _client(config: SalesforceSettings, policy: RetryPolicy, counter: list[int]):
    try:
        from simple_salesforce import Salesforce
    except ImportError as exc:
        raise ConfigError(
            "Syncing from Salesforce needs the simple-salesforce package, which is not installed",
            hint="Install it with: pip install 'salesflow[salesforce]'",
        ) from exc
    session = retrying_session(policy, what="a Salesforce request", counter=counter)
    token = config.access_token or _refreshed_token(config, session)
    return Salesforce(
        instance_url=config.instance_url,
        session_id=token,
        version=config.api_version,
        session=session,
    )


def _refreshed_token(config: SalesforceSettings, session) -> str:
    """A new access token from the OAuth refresh-token flow."""
    data = {
        "grant_type": "refresh_token",
        "client_id": config.client_id,
        "refresh_token": config.refresh_token,
    }
    if config.client_secret:
        data["client_secret"] = config.client_secret
    answer = session.post(f"{config.login_url}/services/oauth2/token", data=data, timeout=60)
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or "access_token" not in body:
        reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
        raise SalesflowError(
            f"Salesforce did not renew the access token: {reason}",
            where=config.login_url,
            hint="Check client_id and SALESFORCE_REFRESH_TOKEN (a refresh token is revoked when "
            "the connected app's policy or the user's password changes)",
        )
    return str(body["access_token"])


def fetch(
    config: SalesforceSettings,
    mark: str | None,
    *,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Pull:
    """Everything that changed in Salesforce after ``mark`` (everything when ``None``)."""
    say = progress or (lambda _m: None)
    if mark is not None and not MARK.fullmatch(mark):
        raise ConfigError(
            f"The Salesforce high-water mark {mark!r} in sync-log.json is not a UTC moment "
            "like 2026-01-05T10:00:00Z",
            hint="Remove the salesforce entry under crm in sync-log.json: the next sync then "
            "fetches everything again (which changes nothing that is already there)",
        )
    policy = RetryPolicy(
        service="Salesforce",
        address_setting="[sync.salesforce] instance_url",
        attempts=config.retries,
        backoff=config.backoff_seconds,
        on_wait=say,
    )
    if sleep is not None:
        policy.sleep = sleep
    counter = [0]
    sf = _client(config, policy, counter)
    pull = Pull("salesforce")
    # one moment closes the window of every query, so a change made while this sync runs comes
    # next time, whichever object it is on (a mark taken from the records could pass it by)
    end = _server_now(sf)
    records: dict[str, list[dict[str, Any]]] = {}
    for obj, fields in QUERIES.items():
        if obj == "OpportunityHistory":
            soql = _history_soql(fields, mark, end)
        else:
            if obj == "Opportunity":
                fields = _with_extra(fields, config.fields)
            soql = (
                f"SELECT {fields}, IsDeleted, SystemModstamp FROM {obj}{_window(mark, end)} "
                "ORDER BY SystemModstamp"
            )
        say(f"Fetching {obj} records" + (f" changed since {mark}" if mark else "") + "…")
        extra = config.fields if obj == "Opportunity" else ()
        records[obj] = rows = list(
            _query(sf, soql, obj, deleted=obj != "OpportunityHistory", extra=extra)
        )
        say(f"Fetched {len(rows):,} {obj} records")
    opportunities = TableChanges()
    for r in records["Opportunity"]:
        if r.get("IsDeleted"):
            opportunities.deleted.add(r["Id"])
        else:
            deal = _opportunity(r)
            deal.update({column: r.get(name) for column, name in config.fields})
            opportunities.records.append(deal)
    history = [r for r in records["OpportunityHistory"] if not r.get("IsDeleted")]
    activities = TableChanges()
    for obj in ("Task", "Event"):
        for r in records[obj]:
            if r.get("IsDeleted"):
                activities.deleted.add(r["Id"])
            elif str(r.get("WhatId") or "").startswith(OPPORTUNITY_PREFIX):
                activities.records.append(_activity(obj, r))
    pull.tables = {
        "opportunities": opportunities,
        "stage_events": TableChanges(_stage_events(history)),
        "opportunity_history": TableChanges([_history(r) for r in history]),
        "activities": activities,
    }
    pull.high_water_mark = max(end, mark) if mark else end
    pull.requests = counter[0]
    return pull


def _with_extra(fields: str, extra: tuple[tuple[str, str], ...]) -> str:
    """The Opportunity field list with the admin's extra fields (each once: SOQL refuses a field
    selected twice)."""
    names = [f.strip() for f in fields.split(",")]
    have = {n.lower() for n in names}
    for _column, name in extra:
        if name.lower() not in have:
            have.add(name.lower())
            names.append(name)
    return ", ".join(names)


def _window(mark: str | None, end: str) -> str:
    """``WHERE`` for the records changed after ``mark`` up to ``end`` (both whole UTC seconds)."""
    if mark:
        return f" WHERE SystemModstamp > {mark} AND SystemModstamp <= {end}"
    return f" WHERE SystemModstamp <= {end}"


def _history_soql(fields: str, mark: str | None, end: str) -> str:
    """The whole history of every deal changed in the window (a semi-join on Opportunity)."""
    return (
        f"SELECT {fields}, IsDeleted, SystemModstamp FROM OpportunityHistory "
        f"WHERE OpportunityId IN (SELECT Id FROM Opportunity{_window(mark, end)}) "
        "ORDER BY OpportunityId, CreatedDate"
    )


def _server_now(sf) -> str:
    """Salesforce's clock, to the second, from the ``Date`` of its answer to a request for the
    API's resources (the local clock may be off)."""
    answer = sf.session.get(sf.base_url, headers=sf.headers, timeout=60)
    if answer.status_code == 401:
        raise _token_refused(sf)
    if answer.status_code != 200:
        raise SalesflowError(
            f"Salesforce answered {answer.status_code} to a request for its API "
            f"(version {sf.sf_version})",
            where=sf.sf_instance,
            hint="Check instance_url and api_version in [sync.salesforce]; nothing was changed",
        )
    try:
        moment = parsedate_to_datetime(answer.headers["Date"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SalesflowError(
            "Salesforce's answer carried no readable Date, so salesflow cannot tell which "
            "changes this sync covers",
            where=sf.sf_instance,
            hint="Check instance_url points at Salesforce (not a proxy that strips headers)",
        ) from exc
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stage_events(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history rows where a deal entered another stage (an amount or date change at the same
    stage is not a stage event), each deal's rows in time order."""
    events = []
    ordered = sorted(
        history, key=lambda r: (r["OpportunityId"], _moment(r["CreatedDate"]), r["Id"])
    )
    previous: tuple[str, str | None] | None = None
    for r in ordered:
        key = (r["OpportunityId"], r.get("StageName"))
        if r.get("StageName") and key != previous:
            events.append(
                {
                    "OpportunityId": r["OpportunityId"],
                    "StageName": r["StageName"],
                    "CreatedDate": r["CreatedDate"],
                    "Amount": r.get("Amount"),
                    "ForecastCategory": r.get("ForecastCategory"),
                }
            )
        previous = key
    return events


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")


def _query(
    sf,
    soql: str,
    obj: str,
    *,
    deleted: bool = True,
    extra: tuple[tuple[str, str], ...] = (),
) -> Iterable[dict[str, Any]]:
    from simple_salesforce.exceptions import (
        SalesforceError,
        SalesforceExpiredSession,
        SalesforceMalformedRequest,
        SalesforceRefusedRequest,
    )

    try:
        yield from sf.query_all_iter(soql, include_deleted=deleted)
    except SalesforceExpiredSession as exc:
        raise _token_refused(sf, obj) from exc
    except SalesforceRefusedRequest as exc:
        raise SalesflowError(
            f"Salesforce refused to let the integration user read {obj}: {_message(exc)}",
            where=sf.sf_instance,
            hint="Give the user API Enabled and read access (View All) on "
            f"{obj}; see docs/crm-salesforce.md. Nothing was changed",
        ) from exc
    except SalesforceMalformedRequest as exc:
        unknown = _unknown_extra(exc, extra)
        if unknown is not None:
            column, name = unknown
            raise ConfigError(
                f"Salesforce has no Opportunity field {name!r} that the integration user can "
                f'read, so {FIELDS} {column} = "{name}" cannot be synced; nothing was '
                "changed",
                where=sf.sf_instance,
                hint="Check the field's API name (Setup > Object Manager > Opportunity > Fields "
                "& Relationships, the 'Field Name' column, e.g. Region__c) and that field-level "
                f"security lets the integration user see it, or remove it from {FIELDS}",
            ) from exc
        raise SalesflowError(
            f"Salesforce could not answer the {obj} query: {_message(exc)}",
            where=sf.sf_instance,
            hint="A field salesflow reads may be hidden from the integration user by field-level "
            "security; see docs/crm-salesforce.md. Nothing was changed",
        ) from exc
    except SalesforceError as exc:
        raise SalesflowError(
            f"Salesforce answered {exc.status} to the {obj} query: {_message(exc)}",
            where=sf.sf_instance,
            hint="Sync again later; nothing was changed",
        ) from exc


def _unknown_extra(exc, extra: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """The admin's extra field an ``INVALID_FIELD`` answer names (``No such column 'X__c' on
    entity 'Opportunity'``), if any."""
    content = getattr(exc, "content", None)
    if not extra or not isinstance(content, list):
        return None
    for error in content:
        if not isinstance(error, Mapping) or error.get("errorCode") != "INVALID_FIELD":
            continue
        named = set(re.findall(r"'([A-Za-z0-9_]+)'", str(error.get("message", ""))))
        named = {n.lower() for n in named}
        for column, name in extra:
            if name.lower() in named:
                return column, name
    return None


def _token_refused(sf, obj: str | None = None) -> SalesflowError:
    """A 401: the access token expired (the org's session timeout) or was revoked."""
    reading = f" while salesflow read {obj} records" if obj else ""
    return SalesflowError(
        f"Salesforce did not accept the access token{reading}: it has expired (access tokens "
        "last as long as the org's session timeout, often 2 hours) or was revoked",
        where=sf.sf_instance,
        hint="Get a new one (for example: sf org display --target-org you@company.com) and set "
        "SALESFORCE_ACCESS_TOKEN, or set SALESFORCE_REFRESH_TOKEN and client_id in "
        "[sync.salesforce] so salesflow renews it at every sync (docs/crm-salesforce.md); "
        "nothing was changed",
    )


def _message(exc) -> str:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        return f"{first.get('errorCode', '')} {first.get('message', '')}".strip()
    return str(content or exc)


def _name(r: Mapping[str, Any], relation: str) -> Any:
    related = r.get(relation)
    return related.get("Name") if isinstance(related, Mapping) else None


def _opportunity(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Id": r["Id"],
        "Name": r.get("Name"),
        "Account Name": _name(r, "Account"),
        "Opportunity Owner": _name(r, "Owner"),
        "StageName": r.get("StageName"),
        "Amount": r.get("Amount"),
        "CloseDate": r.get("CloseDate"),
        "CreatedDate": r.get("CreatedDate"),
        "LeadSource": r.get("LeadSource"),
        "Type": r.get("Type"),
    }


def _history(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "OpportunityId": r["OpportunityId"],
        "CreatedDate": r.get("CreatedDate"),
        "StageName": r.get("StageName"),
        "Amount": r.get("Amount"),
        "CloseDate": r.get("CloseDate"),
        "ForecastCategory": r.get("ForecastCategory"),
    }


def _activity(obj: str, r: Mapping[str, Any]) -> dict[str, Any]:
    """A Task or an Event as an activity: its type (a task's subtype when it has none) and when
    it happened (a task's due date, an event's start; else when it was logged)."""
    if obj == "Task":
        kind = r.get("Type") or r.get("TaskSubtype") or "Task"
        when = r.get("ActivityDate") or r.get("CreatedDate")
    else:
        kind = r.get("Type") or "Meeting"
        when = r.get("ActivityDateTime") or r.get("CreatedDate")
    return {
        "Id": r["Id"],
        "WhatId": r.get("WhatId"),
        "Owner Name": _name(r, "Owner"),
        "Type": kind,
        "ActivityDate": when,
    }
