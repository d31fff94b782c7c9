"""The two proving examples of issue 16 (examples/flow, examples/pool-manager), served as a user serves them
(`pactmock serve` with PACT_DIR=examples/<name>, no Python of their own), on SQLite and on PostgreSQL:
each README walkthrough runs as written, the official verifier passes each example pact against the stateful
mock, and a model file with an error stops the server with the file and line named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pact import Verifier

from tests.support.mock_process import free_port
from tests.support.walkthrough import run_walkthrough

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {"flow": ROOT / "examples" / "flow", "pool-manager": ROOT / "examples" / "pool-manager"}
# A handful of steps fewer than the READMEs hold would mean a block went unread.
LEAST_STEPS = {"flow": 20, "pool-manager": 20}


def pact_file(example: Path) -> Path:
    (found,) = example.glob("*.json")
    return found


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_readme_walkthrough_runs_as_written(name: str, database_url: str, run_mock) -> None:
    mock = run_mock(EXAMPLES[name], DATABASE_URL=database_url)
    steps = run_walkthrough(EXAMPLES[name] / "README.md", {"MOCK": mock.url})
    assert len(steps) >= LEAST_STEPS[name]
    # Every stateful answer of the session kept to its interaction's response rules.
    assert "breaks the contract" not in mock.log(), mock.log()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_verifier_passes_the_example_pact_against_the_stateful_mock(name: str, database_url: str, run_mock) -> None:
    mock = run_mock(EXAMPLES[name], DATABASE_URL=database_url)
    pact = pact_file(EXAMPLES[name])
    provider = str(json.loads(pact.read_text())["provider"]["name"])
    verifier = (
        Verifier(provider, host="127.0.0.1")
        .add_transport(url=mock.url)
        .add_source(pact)
        .state_handler(f"{mock.url}/_mock/provider-states", teardown=True, body=True)
        .set_error_on_empty_pact(enabled=True)
    )
    try:
        verifier.verify()
    except RuntimeError as error:
        pytest.fail(
            f"{error}\n--- verifier output ---\n{verifier.output(strip_ansi=True)}\n--- mock log ---\n{mock.log()}"
        )
    assert verifier.results["result"] is True, json.dumps(verifier.results, indent=2)
    assert not verifier.results.get("errors"), json.dumps(verifier.results, indent=2)
    assert f"provider {provider} is stateful" in mock.log(), mock.log()
    assert "breaks the contract" not in mock.log(), mock.log()


# A typo in a key of each model file, on a line we know: the server must refuse to start and say where.
BROKEN_KEYS = {
    "flow": ("      initial: pending\n", "      inital: pending\n", '"inital"'),
    "pool-manager": ("    auto_create: 3\n", "    auto_creat: 3\n", '"auto_creat"'),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_model_file_with_an_error_stops_serve_naming_file_and_line(
    name: str, database_url: str, tmp_path: Path
) -> None:
    example = tmp_path / name
    shutil.copytree(EXAMPLES[name], example)
    (model,) = example.glob("*.model.yaml")
    good, bad, named = BROKEN_KEYS[name]
    lines = model.read_text().splitlines(keepends=True)
    line_number = lines.index(good) + 1
    lines[line_number - 1] = bad
    model.write_text("".join(lines))

    served = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "1"],
        env={
            **os.environ,
            "PACT_DIR": str(example),
            "FLASK_HOST": "127.0.0.1",
            "FLASK_PORT": str(free_port()),
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = served.stdout + served.stderr
    assert served.returncode != 0, output
    assert f"{model}:{line_number}:" in output, output
    assert named in output, output
