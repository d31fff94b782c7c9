"""The `pactmock` command."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys

import click

from .contract.loader import load_pacts
from .settings import Settings, SettingsError


@click.group()
def main() -> None:
    """pactmock: a contract-first Pact provider mock."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on [default: $FLASK_HOST or 0.0.0.0]")
@click.option("--port", type=int, default=None, help="Port [default: $FLASK_PORT or 5000]")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes")
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="Threads per worker")
@click.option("--reload", is_flag=True, help="Restart when the code changes (development)")
def serve(host: str | None, port: int | None, workers: int, threads: int, reload: bool) -> None:
    """Serve the pacts in $PACT_DIR as a validating mock provider."""
    from .server import serve as run_server

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_server(settings, workers=workers, threads=threads, reload=reload)


@main.command()
@click.option("--pact-dir", default=lambda: os.environ.get("PACT_DIR", "pacts"), show_default="$PACT_DIR or pacts")
def contracts(pact_dir: str) -> None:
    """List the contracts and interactions served, and the problems found in any file."""
    # The loader logs what it finds for the server's log; here it is printed once, below.
    logging.getLogger("app.contract").setLevel(logging.CRITICAL)
    result = load_pacts(pact_dir)
    for contract in result.contracts:
        click.echo(f"{contract.source}: {contract.consumer} -> {contract.provider} (spec {contract.spec})")
        for interaction in contract.interactions:
            states = "; ".join(interaction.state_names)
            given = f"  [given {states}]" if states else ""
            click.echo(f"  {interaction.request.method:7} {interaction.request.path}  {interaction.description}{given}")
        for message in contract.messages:
            click.echo(f"  message  {message.description} ({message.kind}, listed, not served)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    if not result.contracts and not result.problems:
        click.echo(f"no pact files found in {pact_dir}", err=True)
    sys.exit(1 if result.problems else 0)


if __name__ == "__main__":
    main()
