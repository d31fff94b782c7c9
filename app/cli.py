"""The `pactmock` command."""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import click

from .cli_control import COMMANDS as CONTROL_COMMANDS
from .contract.read.loader import LoadResult, load_pacts
from .progress import BYTES, progress
from .providers.catalogue import registry_for
from .providers.pinned import pinned_fields
from .settings import Settings, SettingsError

# Pact files under this many bytes load in well under a second: no progress is shown for them.
PROGRESS_FROM_BYTES = 5_000_000
# The OpenAPI document of fewer interactions than this takes about a second or less.
PROGRESS_FROM_INTERACTIONS = 2_000


def _settings() -> Settings:
    """The settings from the environment (the only place the CLI reads it); a bad value is a one-line error."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _default_pact_dir() -> str:
    return _settings().pact_dir


def _default_admin_token() -> str | None:
    return _settings().admin_token


@click.group()
def main() -> None:
    """pactmock: a contract-first Pact provider mock."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on [default: $FLASK_HOST or 0.0.0.0]")
@click.option("--port", type=int, default=None, help="Port [default: $FLASK_PORT or 5000]")
# One worker process per core of the 2-core machines measured (bench/WSGI.md); four threads each, so that
# writes queue to share one round trip (settings.py says why); more only pass the GIL around.
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Worker processes")
@click.option(
    "--threads", type=click.IntRange(1, 256), default=None, help="Threads per worker [default: $PACTMOCK_THREADS or 4]"
)
@click.option("--reload", is_flag=True, help="Restart when the code changes (development)")
@click.option("--pact-dir", default=None, help="Folder (or file) of pacts to serve [default: $PACT_DIR or pacts]")
@click.option(
    "--replay",
    "replay",
    multiple=True,
    metavar="PROVIDER",
    help="Serve this provider from its contracts' examples, with no state (repeatable) [default: $PACTMOCK_REPLAY_PROVIDERS]",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int,
    threads: int | None,
    reload: bool,
    pact_dir: str | None,
    replay: tuple[str, ...],
) -> None:
    """Serve the pacts in $PACT_DIR as a validating mock provider."""
    from .server import serve as run_server

    settings = _settings()
    given = {"host": host, "port": port, "threads": threads, "pact_dir": pact_dir, "replay_providers": replay or None}
    settings = dataclasses.replace(settings, **{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check_model_files(settings.pact_dir)
    _check_faults_file(settings.faults_file)
    _prepare_database(settings.database_url)
    run_server(settings, workers=workers, reload=reload)


def _check_model_files(pact_dir: str) -> None:
    """A model file with an error stops the server before any worker starts: one line, naming file and line."""
    from .resources.modelfile import ModelFileError, find_model_files, read_model_file

    folder = Path(pact_dir)
    if not folder.is_dir():
        return
    try:
        for pact, model_file in find_model_files(folder).items():
            read_model_file(model_file, pact.stem)
    except ModelFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


def _check_faults_file(path: str | None) -> None:
    """PACTMOCK_FAULTS_FILE with an error stops the server before any worker starts: one line, file and line."""
    from .web.faults import FaultsFileError, load_file

    if path is None:
        return
    try:
        load_file(path)
    except FaultsFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


def _prepare_database(url: str) -> None:
    """The embedded SQLite file is brought to head; a server database must already be there.

    `url` is `Settings.database_url`, already given its driver.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from .store import migrate
    from .store.engine import is_sqlite

    try:
        if is_sqlite(url):
            migrate.upgrade(url)
            return
        current, head = migrate.current_revision(url), migrate.head_revision()
    except (SQLAlchemyError, migrate.MigrationsNotFound) as exc:
        raise click.ClickException(f"cannot open the database {_safe(url)}: {_reason(exc)}") from None
    if current != head:
        raise click.ClickException(
            f"the database {_safe(url)} is at revision {current or 'none'}, this pactmock needs {head}: "
            "run `pactmock db upgrade` (or the migration-runner image) first"
        )


def _safe(url: str) -> str:
    """The URL without its password, fit for a message."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _reason(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__


def _database_url() -> str:
    return _settings().database_url


@main.group()
def db() -> None:
    """Migrate the database named by $DATABASE_URL (Alembic, with the project's settings)."""


def _run_alembic(action: str, work: Callable[[], None]) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from .store.migrate import MigrationsNotFound

    try:
        work()
    except (SQLAlchemyError, MigrationsNotFound) as exc:
        raise click.ClickException(f"{action} failed on {_safe(_database_url())}: {_reason(exc)}") from None


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade to REVISION (default: head)."""
    from .store import migrate

    url = _database_url()
    _run_alembic("upgrade", lambda: migrate.upgrade(url, revision))
    click.echo(f"{_safe(url)} is at {migrate.current_revision(url)}")


# Relative revisions look like options (-1): take them as the argument they are.
@db.command(context_settings={"ignore_unknown_options": True})
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade to REVISION (for example -1 or base). Revision notes say what a step destroys."""
    from .store import migrate

    url = _database_url()
    _run_alembic("downgrade", lambda: migrate.downgrade(url, revision))
    click.echo(f"{_safe(url)} is at {migrate.current_revision(url) or 'base'}")


@db.command()
def current() -> None:
    """Print the database's revision and whether it is the head."""
    from .store import migrate

    url = _database_url()
    found: list[str | None] = []
    _run_alembic("current", lambda: found.append(migrate.current_revision(url)))
    head = migrate.head_revision()
    state = "head" if found[0] == head else f"head is {head}"
    click.echo(f"{found[0] or 'base (empty)'} ({state})")


@db.command()
def history() -> None:
    """List the migrations, newest first."""
    from .store import migrate

    for line in migrate.history():
        click.echo(line)


@main.command()
@click.argument("url")
@click.option("--pact-dir", default=_default_pact_dir, show_default="$PACT_DIR or pacts")
@click.option(
    "--states-url",
    default=None,
    help="Provider-state change URL [default: URL/_mock/provider-states; '' for none]",
)
@click.option(
    "--admin-token",
    default=_default_admin_token,
    help="The mock's MOCK_ADMIN_TOKEN, for state calls from another host [default: $MOCK_ADMIN_TOKEN]",
)
@click.option("--verbose", is_flag=True, help="Print the verifier's full output")
def verify(url: str, pact_dir: str, states_url: str | None, admin_token: str | None, verbose: bool) -> None:
    """Run the Pact verifier for every pact in --pact-dir against the provider at URL."""
    from .verify import VerifierMissing, verify_folder

    folder = Path(pact_dir)
    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise click.ClickException(f"no pact files in {pact_dir}: pass --pact-dir or set PACT_DIR")
    url = url.rstrip("/")
    if states_url is None:
        states_url = f"{url}/_mock/provider-states"
    if states_url and admin_token:
        # The verifier can only be given a URL for state calls, so the token travels as ?token=.
        separator = "&" if "?" in states_url else "?"
        states_url = f"{states_url}{separator}{urlencode({'token': admin_token})}"
    try:
        files = len(list(folder.glob("*.json")))
        with progress("verified", files, unit="pact files") as advance:
            verdicts = verify_folder(url, folder, states_url or None, verified=lambda _verdict: advance())
    except VerifierMissing as exc:
        raise click.ClickException(str(exc)) from None
    for verdict in verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        click.echo(f"{mark}  {verdict.pact_file.name} (provider {verdict.provider}): {verdict.summary}")
        if verbose or not verdict.passed:
            click.echo(verdict.output)
    failed = sum(not v.passed for v in verdicts)
    click.echo(f"{len(verdicts) - failed} of {len(verdicts)} pact files verified against {url}")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--pact-dir", default=_default_pact_dir, show_default="$PACT_DIR or pacts")
def contracts(pact_dir: str) -> None:
    """List the contracts and interactions served, and the problems found in any file."""
    # The loader logs what it finds for the server's log; here it is printed once, below.
    logging.getLogger("app.contract").setLevel(logging.CRITICAL)
    result = _loaded(pact_dir)
    for contract in result.contracts:
        click.echo(f"{contract.source}: {contract.consumer} -> {contract.provider} (spec {contract.spec})")
        for interaction in contract.interactions:
            states = "; ".join(interaction.state_names)
            given = f"  [given {states}]" if states else ""
            click.echo(f"  {interaction.method:7} {interaction.path}  {interaction.description}{given}")
        for message in contract.messages:
            click.echo(f"  message  {message.description} ({message.kind}, listed, not served)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for pinned in pinned_fields(result.interactions, registry_for(_settings(), result)):
        click.echo(f"contract and state disagree: {pinned.sentence()}", err=True)
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    if not result.contracts and not result.problems:
        click.echo(f"no pact files found in {pact_dir}", err=True)
    sys.exit(1 if result.problems else 0)


@main.command()
@click.argument("provider")
@click.argument("collection")
@click.argument("count", metavar="N", type=int)
@click.option("--pact-dir", default=None, help="Folder of pacts and model files [default: $PACT_DIR or pacts]")
@click.option("--seed", "seed_value", type=int, default=None, help="Seed of the items [default: the model file's seed]")
@click.option(
    "--at",
    default=None,
    help="ISO 8601 time with a zone the items' times count back from [default: the mock's clock: its frozen "
    "instant, else now (plus the clock's offset); give --at (or freeze the clock) for the same rows on every run]",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Processes making items [default: one per core]")
def seed(
    provider: str,
    collection: str,
    count: int,
    pact_dir: str | None,
    seed_value: int | None,
    at: str | None,
    jobs: int | None,
) -> None:
    """Write items 0..N-1 of PROVIDER's COLLECTION (declared in its model file) to the database as real rows.

    Rows with the same ids are replaced (version 1), so the same seed and time give the same rows again.
    A collection that is not `generated:` gets N items made from its contract's example and matchers.
    """
    from . import seeding

    settings = _settings()
    if pact_dir is not None:
        settings = dataclasses.replace(settings, pact_dir=pact_dir)
    logging.getLogger("app.contract").setLevel(logging.CRITICAL)
    try:
        moment = seeding.parse_at(at) if at is not None else None
        seeding.check_database(settings.database_url)
        chosen = seeding.plan(settings, provider, collection, count, seed_value, moment or seeding.mock_now(settings))
    except seeding.SeedRefused as refused:
        click.echo(f"error: {refused}", err=True)
        sys.exit(2)
    workers = jobs or seeding.default_jobs()
    try:
        with progress("seeded", count) as advance:
            result = seeding.seed(chosen, settings.database_url, workers, advance.to)
    finally:  # a mock serving this database reads the items it kept again, seeded rows and all
        from .web.change_signal import signal_for

        signal_for(settings.database_url).announce_items_now()
    click.echo(f"seeded {result.count} items of {collection} in {result.seconds:.2f} s ({result.rate:,.0f} rows/s)")


@main.command()
@click.argument("pact", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", default=None, help="The provider to infer (default: the pact's)")
def model(pact: Path, provider: str | None) -> None:
    """Print the state inferred from PACT as a draft model file (save it as <pact>.model.yaml and edit it)."""
    from .resources.draft import draft_yaml
    from .resources.infer import infer_model

    logging.getLogger("app.contract").setLevel(logging.CRITICAL)
    result = load_pacts(pact)
    if result.problems or not result.contracts:
        for problem in result.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    name = provider or result.contracts[0].provider
    interactions = [i for c in result.contracts if c.provider == name for i in c.interactions]
    click.echo(draft_yaml(infer_model(name, interactions, f"inferred from {pact.name}")), nl=False)


@main.command()
@click.option("--pact-dir", default=_default_pact_dir, show_default="$PACT_DIR or pacts")
def openapi(pact_dir: str) -> None:
    """Print the OpenAPI 3.1 document of the pacts (what GET /_mock/openapi.json answers)."""
    from .openapi import openapi_document

    logging.getLogger("app.contract").setLevel(logging.CRITICAL)
    result = _loaded(pact_dir)
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    registry = registry_for(dataclasses.replace(_settings(), pact_dir=pact_dir), result)
    count = len(result.interactions)
    with progress("documented", count if count >= PROGRESS_FROM_INTERACTIONS else 0, unit="interactions") as advance:
        document = openapi_document(result.contracts, registry, documented=advance)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    sys.exit(1 if result.problems else 0)


def _loaded(location: str) -> LoadResult:
    """Every pact at `location`, with progress file by file on stderr when the files are large (load_pacts' order)."""
    root = Path(location)
    files = sorted(p for p in root.rglob("*.json") if p.is_file()) if root.is_dir() else [root]
    total = sum(p.stat().st_size for p in files if p.is_file())
    if total < PROGRESS_FROM_BYTES:
        return load_pacts(location)
    result = LoadResult()
    with progress("read pact files", total, unit=BYTES) as advance:
        for path in files:
            part = load_pacts(path)
            result.contracts += part.contracts
            result.problems += part.problems
            result.warnings += part.warnings
            advance(path.stat().st_size)
    return result


# The control plane's calls as commands against a running mock (cli_control.py).
for _command in CONTROL_COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
