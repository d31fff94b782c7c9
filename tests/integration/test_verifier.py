"""Provider side: pact-python's Verifier replays the committed pacts against the real pactmock server,
on a fresh SQLite file and on a fresh PostgreSQL database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pact import Verifier

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
PACT_FILES = sorted(PACT_DIR.glob("*.json"))


def provider_name(pact_file: Path) -> str:
    return str(json.loads(pact_file.read_text())["provider"]["name"])


@pytest.mark.parametrize("pact_file", PACT_FILES, ids=[p.stem for p in PACT_FILES])
def test_pactmock_passes_pact_verification(pact_file: Path, database_url: str, run_mock) -> None:
    mock = run_mock(PACT_DIR, DATABASE_URL=database_url)
    verifier = (
        Verifier(provider_name(pact_file), host="127.0.0.1")
        .add_transport(url=mock.url)
        .add_source(pact_file)
        .state_handler(f"{mock.url}/_mock/provider-states", teardown=True, body=True)
        .set_error_on_empty_pact(enabled=True)
    )
    try:
        verifier.verify()
    except RuntimeError as error:
        pytest.fail(
            f"{error}\n--- verifier output ---\n{verifier.output(strip_ansi=True)}\n--- mock log ---\n{mock.log()}"
        )
    results = verifier.results
    assert results["result"] is True, json.dumps(results, indent=2)
    assert not results.get("errors"), json.dumps(results, indent=2)
    # Every answer from a domain handler kept to its contract.
    assert "breaks the contract" not in mock.log(), mock.log()
