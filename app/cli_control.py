"""`pactmock` commands against a running mock's control plane: the same calls as /_mock/, from a shell or CI.

Each takes --url (default $PACTMOCK_URL, else http://localhost:5000) and --admin-token (default
$MOCK_ADMIN_TOKEN); a refusal prints the problem's detail and exits 1; a mock that does not answer exits 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click

from .progress import BYTES, progress

CHUNK = 256 * 1024


def _default_url() -> str:
    return os.environ.get("PACTMOCK_URL", "http://localhost:5000")


url_option = click.option("--url", default=_default_url, show_default="$PACTMOCK_URL or http://localhost:5000")
SESSION_HEADER = "X-Pactmock-Session"


def _remember_session(context: click.Context, _parameter: click.Parameter, value: str | None) -> None:
    context.meta["pactmock.session"] = value


def token_option(command: Any) -> Any:
    """--admin-token, and --session: the session (X-Pactmock-Session) every call of the command acts on."""
    with_token = click.option(
        "--admin-token", default=lambda: os.environ.get("MOCK_ADMIN_TOKEN"), show_default="$MOCK_ADMIN_TOKEN"
    )(command)
    return click.option(
        "--session",
        default=lambda: os.environ.get("PACTMOCK_SESSION"),
        show_default="$PACTMOCK_SESSION, else the default session",
        expose_value=False,
        callback=_remember_session,
        help="Act on this session's state (the X-Pactmock-Session header)",
    )(with_token)


def call(url: str, token: str | None, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
    """One control-plane call; its JSON answer, or the bytes when it is not JSON."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = click.get_current_context(silent=True)
    session = context.meta.get("pactmock.session") if context is not None else None
    if session:
        request.add_header(SESSION_HEADER, session)
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:
            content = answer.read()
            return json.loads(content) if answer.headers.get_content_type() == "application/json" else content
    except urllib.error.HTTPError as refused:
        detail = refused.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(detail).get("detail", detail)
        click.echo(f"error: {method} {path}: {refused.code} {detail}", err=True)
        sys.exit(1)
    except (urllib.error.URLError, OSError) as unreachable:
        click.echo(f"error: the mock at {url} does not answer: {unreachable}", err=True)
        sys.exit(2)


def _show(answer: Any) -> None:
    click.echo(json.dumps(answer, indent=2, sort_keys=True))


@click.command()
@click.option("--provider", default=None, help="Reset only this provider")
@url_option
@token_option
def reset(provider: str | None, url: str, admin_token: str | None) -> None:
    """Back to a fresh mock: data, id counters, clock, scenarios (or one provider's data)."""
    _show(call(url, admin_token, "POST", "/_mock/reset", {"provider": provider} if provider else {}))


@click.group()
def state() -> None:
    """Export or import the mock's state as one JSON document."""


@state.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--provider", default=None, help="Only this provider's state")
@url_option
@token_option
def export_state(file: Path, provider: str | None, url: str, admin_token: str | None) -> None:
    """Write the state to FILE."""
    query = "?" + urllib.parse.urlencode({"provider": provider}) if provider else ""
    document = call(url, admin_token, "GET", "/_mock/state" + query)
    content = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with file.open("wb") as out, progress("wrote", len(content), unit=BYTES) as advance:
        for start in range(0, len(content), CHUNK):
            out.write(content[start : start + CHUNK])
            advance(min(CHUNK, len(content) - start))
    rows = sum(len(rows) for rows in document["tables"].values())
    click.echo(f"exported {rows} rows to {file}", err=True)


@state.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", default=None, help="Only this provider's state")
@url_option
@token_option
def import_state(file: Path, provider: str | None, url: str, admin_token: str | None) -> None:
    """Replace the state with FILE's (checked first; all or nothing)."""
    size = file.stat().st_size
    content = bytearray()
    with file.open("rb") as source, progress("read", size, unit=BYTES) as advance:
        while chunk := source.read(CHUNK):
            content += chunk
            advance(len(chunk))
    query = "?" + urllib.parse.urlencode({"provider": provider}) if provider else ""
    _show(call(url, admin_token, "PUT", "/_mock/state" + query, raw=bytes(content)))


@click.command()
@click.argument("action", type=click.Choice(["show", "freeze", "advance", "set", "resume", "system"]), default="show")
@click.argument("value", required=False)
@url_option
@token_option
def clock(action: str, value: str | None, url: str, admin_token: str | None) -> None:
    """The mock's clock: show; freeze [AT]; advance SECONDS; set AT; resume; system (back to the real time)."""
    if action == "show":
        _show(call(url, admin_token, "GET", "/_mock/clock"))
    elif action == "system":
        _show(call(url, admin_token, "DELETE", "/_mock/clock"))
    else:
        body: dict[str, Any] = {"action": action}
        if action == "advance":
            try:
                body["seconds"] = float(value or "")
            except ValueError:
                raise click.BadParameter(f"advance needs SECONDS, not {value!r}") from None
        elif value is not None:
            body["at"] = value
        _show(call(url, admin_token, "POST", "/_mock/clock", body))


@click.command()
@click.argument("action", type=click.Choice(["list", "on", "off"]), default="list")
@click.argument("name", required=False)
@click.option("--provider", default=None, help="NAME is this provider's fixture or scenario (else a provider state)")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A provider state's parameter")
@url_option
@token_option
def scenarios(
    action: str, name: str | None, provider: str | None, params: tuple[str, ...], url: str, admin_token: str | None
) -> None:
    """List provider states and fixtures, or switch one on or off."""
    if action == "list":
        _show(call(url, admin_token, "GET", "/_mock/scenarios"))
        return
    if not name:
        raise click.BadParameter("name the provider state (or, with --provider, the fixture or scenario)")
    entry: dict[str, Any] = {"provider": provider, "fixture": name} if provider else {"state": name}
    if params and not provider:
        entry["params"] = dict(param.partition("=")[::2] for param in params)
    answer = call(
        url, admin_token, "POST", "/_mock/scenarios", {"activate" if action == "on" else "deactivate": [entry]}
    )
    _show(answer["active"])


@click.command()
@click.argument("provider")
@click.argument("collection")
@click.argument("count")
@url_option
@token_option
def volume(provider: str, collection: str, count: str, url: str, admin_token: str | None) -> None:
    """Set a generated collection's COUNT (a number, or LOW, DEFAULT or HIGH) without a restart."""
    body: dict[str, Any] = {"count": int(count)} if count.isdigit() else {"preset": count}
    _show(
        call(
            url,
            admin_token,
            "PUT",
            f"/_mock/resources/{urllib.parse.quote(provider)}/{urllib.parse.quote(collection)}",
            body,
        )
    )


@click.group()
def sessions() -> None:
    """List or drop the mock's isolated sessions (X-Pactmock-Session)."""


@sessions.command("list")
@url_option
@token_option
def list_sessions(url: str, admin_token: str | None) -> None:
    """Every session the mock holds, the default one first."""
    for entry in call(url, admin_token, "GET", "/_mock/sessions")["sessions"]:
        click.echo(entry["name"])


@sessions.command("drop")
@click.argument("name")
@url_option
@token_option
def drop_session(name: str, url: str, admin_token: str | None) -> None:
    """Drop session NAME and everything it holds."""
    _show(call(url, admin_token, "DELETE", f"/_mock/sessions/{urllib.parse.quote(name, safe='')}"))


COMMANDS = (reset, state, clock, scenarios, volume, sessions)
