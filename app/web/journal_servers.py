"""The journal merged across servers (issue 18, item 8): each server keeps its own journal (journal.py), and
GET /_mock/journal?merged=1 gathers every server's over HTTP.

Servers find each other through the database they share: each announces the URL it listens at in the mock
setting `journal-servers` when it starts, and again whenever its journal is read. The merged view asks every
announced server for its own records (the same filters, with the admin token when the mock has one), in
parallel and with a short timeout, and merges them newest first; a server that does not answer is named as
unreachable, never a failure of the call. Nothing is written on the request path: journaling stays per server
and costs what it did.

Why not the journal in the database: one insert per request would put a database round trip on the stub path,
which needs none, and the journal must cost at most 10% of it. Announcing costs one write per server start.

The setting is the mock's own bookkeeping, not state: reset keeps it, and export and import leave it out
(app/store/snapshot.py), so a state exported from one mock imports into another without its servers.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..domain.errors import Conflict
from ..domain.sessions import DEFAULT, enter_session, leave_session
from ..domain.state import JOURNAL_SERVERS

if TYPE_CHECKING:
    from ..domain.ports import Store
    from ..settings import Settings

log = logging.getLogger(__name__)
SERVERS_SETTING = JOURNAL_SERVERS
# A server that has not announced itself for this long (it re-announces on start and on every journal read)
# and does not answer is forgotten.
FORGET_AFTER_SECONDS = 24 * 3600
ASK_TIMEOUT_SECONDS = 3.0
ANNOUNCE_TRIES = 5
WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def own_url(settings: Settings) -> str:
    """The URL this server's peers reach it at: its host and port, a wildcard host made this machine's address."""
    host = settings.host
    if host in WILDCARDS:
        host = _outward_address()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _outward_address() -> str:
    """This machine's address on the interface its default route leaves by (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


@contextmanager
def _default_session() -> Iterator[None]:
    """The servers are the mock's, not a session's: their list lives in the default namespace whichever
    session the request that reads or changes it works in."""
    token = enter_session(DEFAULT)
    try:
        yield
    finally:
        leave_session(token)


def announced(store: Store) -> dict[str, dict[str, Any]]:
    """Every announced server: URL -> when it last announced itself (RFC 3339)."""
    with _default_session(), store.reading() as uow:
        setting = uow.settings.get(SERVERS_SETTING) or {}
    servers = setting.get("servers")
    return dict(servers) if isinstance(servers, dict) else {}


def announce(store: Store, url: str) -> None:
    """Add (or refresh) this server in the setting. Two servers announcing at once may overwrite each other's
    write (read, change, write): each reads back and tries again until it finds itself there."""
    for attempt in range(ANNOUNCE_TRIES):
        try:
            with _default_session(), store.writing() as uow:
                setting = uow.settings.get(SERVERS_SETTING) or {}
                servers = dict(setting.get("servers") or {})
                servers[url] = {"announced": datetime.now(UTC).isoformat()}
                uow.settings.put(SERVERS_SETTING, {"servers": servers})
            if url in announced(store):
                return
        except Conflict:
            pass
        time.sleep(0.05 * (attempt + 1))


def announce_in_background(store: Store, url: str) -> None:
    """Announce without holding up the start: a database that is down now costs the announcement, not the server."""

    def run() -> None:
        try:
            announce(store, url)
        except Exception as error:  # a thread of its own: whatever went wrong is said here, or nowhere
            log.warning("journal: this server could not announce itself for the merged journal: %s", error)

    threading.Thread(target=run, name="pactmock-journal-announce", daemon=True).start()


def refresh(store: Store, url: str) -> dict[str, dict[str, Any]]:
    """The announced servers, this one announced again first when it is missing."""
    servers = announced(store)
    if url not in servers:
        announce(store, url)
        servers = announced(store)
    return servers


def forget(store: Store, urls: list[str]) -> None:
    """Drop servers that are long silent and do not answer."""
    if not urls:
        return
    with _default_session(), store.writing() as uow:
        setting = uow.settings.get(SERVERS_SETTING) or {}
        servers = {u: v for u, v in dict(setting.get("servers") or {}).items() if u not in urls}
        uow.settings.put(SERVERS_SETTING, {"servers": servers})


def ask(url: str, query: dict[str, str], token: str | None) -> dict[str, Any]:
    """One server's own journal (never merged again), or why it could not be read."""
    request = urllib.request.Request(f"{url}/_mock/journal?{urlencode({**query, 'merged': '0'})}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=ASK_TIMEOUT_SECONDS) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return {"url": url, "status": "refused", "error": f"{error.code} {error.reason}"}
    except (OSError, ValueError) as error:
        return {"url": url, "status": "unreachable", "error": str(error)[:200]}
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return {"url": url, "status": "refused", "error": "the answer is not a journal"}
    return {"url": url, "status": "ok", "total": body.get("total", 0), "requests": body["requests"]}


def gather(urls: list[str], query: dict[str, str], token: str | None) -> list[dict[str, Any]]:
    """Every server asked at once; in the order given."""
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(urls))) as pool:
        return list(pool.map(lambda url: ask(url, query, token), urls))


def long_silent(servers: dict[str, dict[str, Any]], answers: list[dict[str, Any]]) -> list[str]:
    """Servers that did not answer and have not announced themselves for FORGET_AFTER_SECONDS."""
    now = datetime.now(UTC)
    silent = []
    for answer in answers:
        if answer["status"] != "unreachable":
            continue
        try:
            last = datetime.fromisoformat(str(servers.get(answer["url"], {}).get("announced")))
        except ValueError:
            silent.append(answer["url"])
            continue
        if (now - last).total_seconds() > FORGET_AFTER_SECONDS:
            silent.append(answer["url"])
    return silent
