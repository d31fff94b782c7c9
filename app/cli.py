"""The `pactmock` command."""

from __future__ import annotations

import logging
import os
import sys

import click

from .contract.loader import load_pacts


@click.group()
def main() -> None:
    """pactmock: a contract-first Pact provider mock."""


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
