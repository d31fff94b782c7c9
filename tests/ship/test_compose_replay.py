"""The compose replay: each service's command run natively, in compose's start order, against PostgreSQL.

No Docker engine is needed. A fresh database on the TEST_POSTGRES_URL server plays the postgres service;
the migration-runner's command (as the Dockerfile and compose file declare it) migrates it; the api's
command serves the pacts from it with the environment compose gives the api; the Pact verifier checks
every pact against that api. The documented bastion recipes run against the same database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import requests
from pact import Verifier
from sqlalchemy.engine import make_url

from app.settings import ENVIRONMENT_VARIABLES
from tests.integration.conftest import fresh_postgres_database
from tests.ship.compose import (
    ROOT,
    build_target,
    container_environment,
    container_path_to_repo,
    dockerfile_stages,
    healthcheck_argv,
    healthcheck_command,
    load_compose,
    service_command,
)

COMPOSE = load_compose()
STAGES = dockerfile_stages()
PACT_FILES = sorted((ROOT / "pacts").glob("*.json"))
# The images put the venv's bin first on PATH; here the test's own venv plays that part.
SCRIPTS = Path(sysconfig.get_path("scripts"))
# The recipes docs/deployment.md gives for `docker compose run --rm migration-runner ...`.
ALEMBIC_CURRENT = ["alembic", "current"]
PSQL_RECIPE = 'psql "$DATABASE_URL" -c "SELECT count(*) FROM jobs"'


def libpq_url(url: str) -> str:
    """The URL psql and psycopg2 accept (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def native_environment(service: str, **overrides: str) -> dict[str, str]:
    """The environment of the service's container, with paths the image copied from this repository mapped back."""
    # Settings from the developer's shell must not leak in: the replay sees what compose gives, nothing more.
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT_VARIABLES}
    target = build_target(COMPOSE["services"][service]) or ""
    for key, value in container_environment(COMPOSE, STAGES, service).items():
        if key == "PATH":  # the image's venv; commands are resolved in SCRIPTS instead
            continue
        repo_path = container_path_to_repo(STAGES, target, value) if value.startswith("/") else None
        env[key] = str(repo_path) if repo_path else value
    env.update(overrides)
    return env


def native(argv: list[str]) -> list[str]:
    executable = SCRIPTS / argv[0]
    assert executable.exists(), f"{argv[0]} is not installed in {SCRIPTS} (pip install -e .)"
    return [str(executable), *argv[1:]]


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The repository root plays the images' WORKDIR: alembic.ini, migrations/ and pacts/ are copied from it.
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh database playing the postgres service: created here, dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def migration(database: str) -> subprocess.CompletedProcess[str]:
    command = service_command(COMPOSE, STAGES, "migration-runner")
    assert command, "the migration-runner declares no command"
    return run(native(command), native_environment("migration-runner", DATABASE_URL=database))


@dataclass
class ReplayedApi:
    url: str
    env: dict[str, str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def api(
    database: str, migration: subprocess.CompletedProcess[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReplayedApi]:
    if migration.returncode != 0:
        pytest.fail(
            "compose starts the api only once the migration-runner exits 0; it exited "
            f"{migration.returncode}:\n{migration.stdout}\n{migration.stderr}"
        )
    port = free_port()
    env = native_environment("api", DATABASE_URL=database, FLASK_HOST="127.0.0.1", FLASK_PORT=str(port))
    command = service_command(COMPOSE, STAGES, "api")
    assert command, "the api declares no command"
    api = ReplayedApi(f"http://127.0.0.1:{port}", env, tmp_path_factory.mktemp("replay") / "api.log")
    with api.log_path.open("wb") as log:
        process = subprocess.Popen(native(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not healthy(api.url):
            if process.poll() is not None:
                pytest.fail(f"the api's command exited with {process.returncode}:\n{api.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the api did not answer /health with 200 within 30 s:\n{api.log()}")
            time.sleep(0.2)
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def healthy(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_migration_runner_command_brings_a_fresh_database_to_head(
    migration: subprocess.CompletedProcess[str], database: str
) -> None:
    assert migration.returncode == 0, f"{migration.stdout}\n{migration.stderr}"
    with psycopg2.connect(libpq_url(database)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM alembic_version")
        versions = cursor.fetchone()
    connection.close()
    assert "jobs" in tables, tables
    assert versions == (1,)


def test_bastion_alembic_current_reports_head(migration: subprocess.CompletedProcess[str], database: str) -> None:
    assert migration.returncode == 0, "the migration-runner failed; see the test above"
    current = run(native(ALEMBIC_CURRENT), native_environment("migration-runner", DATABASE_URL=database))
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout, current.stdout + current.stderr


def test_bastion_psql_recipe_counts_jobs(migration: subprocess.CompletedProcess[str], database: str) -> None:
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed here (the migration-runner image has it)")
    assert migration.returncode == 0, "the migration-runner failed; see the test above"
    env = native_environment("migration-runner", DATABASE_URL=libpq_url(database))
    counted = run(["sh", "-c", PSQL_RECIPE], env)
    assert counted.returncode == 0, counted.stderr
    assert re.search(r"^\s*0\s*$", counted.stdout, re.M), counted.stdout


def test_documented_bastion_recipes_are_the_replayed_ones() -> None:
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    assert PSQL_RECIPE in deployment
    assert "migration-runner " + " ".join(ALEMBIC_CURRENT) in deployment


def test_api_reports_healthy_on_the_compose_database(api: ReplayedApi) -> None:
    response = requests.get(api.url + "/health", timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"]["backend"] == "postgresql", "the api is not on the database compose gives it"


def test_healthchecks_pass_against_the_api_and_fail_without_it(api: ReplayedApi) -> None:
    probes = {
        "docker-compose.yml": healthcheck_argv(COMPOSE["services"]["api"]["healthcheck"]["test"], {}),
        "Dockerfile": healthcheck_command(STAGES, "api") or [],
    }
    for source, argv in probes.items():
        assert argv, f"{source} has no healthcheck for the api"
        up = run(native(argv), api.env)
        assert up.returncode == 0, f"{source} healthcheck failed against a healthy api: {up.stderr}"
        down = run(native(argv), {**api.env, "FLASK_PORT": str(free_port())})
        assert down.returncode != 0, f"{source} healthcheck passed with nothing listening"


@pytest.mark.parametrize("pact_file", PACT_FILES, ids=[p.stem for p in PACT_FILES])
def test_pact_verification_passes_against_the_replayed_api(pact_file: Path, api: ReplayedApi) -> None:
    provider = str(json.loads(pact_file.read_text())["provider"]["name"])
    verifier = (
        Verifier(provider, host="127.0.0.1")
        .add_transport(url=api.url)
        .add_source(pact_file)
        .state_handler(f"{api.url}/_mock/provider-states", teardown=True, body=True)
        .set_error_on_empty_pact(enabled=True)
    )
    try:
        verifier.verify()
    except RuntimeError as error:
        pytest.fail(f"{error}\n--- verifier ---\n{verifier.output(strip_ansi=True)}\n--- api log ---\n{api.log()}")
    assert verifier.results["result"] is True, json.dumps(verifier.results, indent=2)
    assert not verifier.results.get("errors"), json.dumps(verifier.results, indent=2)
