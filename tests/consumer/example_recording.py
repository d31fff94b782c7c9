"""Recording an example's pact from its consumer client, one provider state at a time, and checking it in.

The examples in `examples/` (Flow, Pool Manager) each have a consumer test that drives its client class
against pact-python's mock server. A session is one provider state of the world: the interactions it
declares are the only ones its mock server answers, and the client must exercise every one of them
(pact-python's `raises=True`). Sessions merge what they recorded into one pact file in a scratch folder;
the committed file must then be exactly that contract (`PACT_UPDATE=1` rewrites it instead, and
`PACT_OUTPUT_DIR` names another folder to hold the committed files, as for the epx pacts).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pact import Pact, match

REPOSITORY = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("PACT_UPDATE") == "1"

DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
EXAMPLE_TIME = "2024-05-01T12:00:00Z"
JSON = "application/json"


@dataclass(frozen=True)
class Session:
    """What one session records: the interactions it declares and the client calls that exercise them."""

    declare: Callable[[Pact], None]  # adds this state's interactions to the pact
    drive: Callable[[str], None]  # uses the client, given the mock server's base URL, as a user would


def committed_folder(example: str) -> Path:
    """Where the committed pact of `example` lives: examples/<example>, or under $PACT_OUTPUT_DIR."""
    override = os.environ.get("PACT_OUTPUT_DIR")
    return Path(override) / example if override else REPOSITORY / "examples" / example


def record(consumer: str, provider: str, session: Session, output: Path) -> None:
    """Serve the session's interactions, let the client exercise them, merge the pact into `output`."""
    pact = Pact(consumer, provider).with_specification("V4")
    session.declare(pact)
    with pact.serve(addr="127.0.0.1") as server:  # leaving it checks every interaction was exercised
        session.drive(str(server.url).rstrip("/"))
    pact.write_file(output, overwrite=False)


def comparable(pact_json: dict[str, Any]) -> dict[str, Any]:
    """The pact without metadata that only records which pact-python/pact-rust version wrote it."""
    metadata = {k: v for k, v in pact_json.get("metadata", {}).items() if k not in {"pactRust", "pactPython"}}
    return {**pact_json, "metadata": metadata}


def check_in(fresh: Path, committed: Path) -> None:
    """With PACT_UPDATE=1 write `fresh` to `committed`; then `committed` must be the same contract."""
    recorded = json.loads(fresh.read_text())
    if UPDATE:
        committed.parent.mkdir(parents=True, exist_ok=True)
        committed.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    assert committed.is_file(), f"{committed} is missing: run this test once with PACT_UPDATE=1"
    assert comparable(json.loads(committed.read_text())) == comparable(recorded), (
        f"{committed} is out of date with the consumer test: rerun it with PACT_UPDATE=1"
    )


def timestamp() -> Any:
    """A moment the provider stamps: ISO 8601 with a zone, any value."""
    return match.regex(EXAMPLE_TIME, regex=DATETIME)


def one_of(example: str, allowed: tuple[str, ...]) -> Any:
    """A string that is one of `allowed` (a status): `example` in the pact."""
    assert example in allowed
    return match.regex(example, regex="^(" + "|".join(map(re.escape, allowed)) + ")$")


def exactly(value: str) -> Any:
    """This very string, even inside a list whose items are matched by type (where a literal would not be)."""
    return match.regex(value, regex=f"^{re.escape(value)}$")


def problem_content_type() -> Any:
    """The Content-Type of an RFC 9457 problem document (parameters allowed)."""
    return match.regex("application/problem+json", regex=r"^application/problem\+json(;.*)?$")
