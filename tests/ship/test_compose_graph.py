"""docker-compose.yml and the Dockerfile, checked without a Docker engine: start order, health, ports, wiring."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.settings import ENVIRONMENT_VARIABLES
from tests.ship.compose import (
    ENV_EXAMPLE,
    ENV_FILES,
    ROOT,
    build_target,
    container_environment,
    container_path_to_repo,
    copies,
    default_command,
    dockerfile_stages,
    dockerignore_patterns,
    dockerignored,
    env_file_paths,
    environment_entries,
    healthcheck_command,
    image_env,
    image_user,
    instructions,
    load_compose,
    read_env_file,
    service_command,
)

COMPOSE = load_compose()
SERVICES = COMPOSE["services"]
STAGES = dockerfile_stages()
APP_SERVICES = ("migration-runner", "api")
# Set by the python base image's conventions, not settings of the app.
RUNTIME_VARIABLES = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK"}


def condition(service: str, dependency: str) -> str | None:
    depends_on = SERVICES[service].get("depends_on") or {}
    if isinstance(depends_on, list):  # the short form waits for nothing but the start
        return "service_started" if dependency in depends_on else None
    return (depends_on.get(dependency) or {}).get("condition")


def published_container_ports(service: str) -> dict[int, int]:
    """{container port: host port} for every published port of a service."""
    published: dict[int, int] = {}
    for entry in SERVICES[service].get("ports") or []:
        if isinstance(entry, dict):
            published[int(entry["target"])] = int(entry["published"])
        else:
            *_, host, container = str(entry).split(":")
            published[int(container.split("/")[0])] = int(host)
    return published


def test_start_order_is_postgres_healthy_then_migrations_completed_then_api() -> None:
    assert condition("migration-runner", "postgres") == "service_healthy"
    assert condition("api", "migration-runner") == "service_completed_successfully"
    assert not SERVICES["postgres"].get("depends_on"), "postgres must not wait for the services that wait for it"


def test_postgres_healthcheck_is_pg_isready_over_tcp() -> None:
    test = " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in test
    # Over the socket, the first-start init server would pass before TCP clients can connect.
    assert "-h 127.0.0.1" in test


def test_api_healthcheck_in_compose_and_image_probes_health_endpoint() -> None:
    compose_test = " ".join(SERVICES["api"]["healthcheck"]["test"])
    image_test = " ".join(healthcheck_command(STAGES, "api") or [])
    for test in (compose_test, image_test):
        assert "http://127.0.0.1:" in test and "/health" in test, test


def test_api_published_port_is_the_port_the_app_listens_on() -> None:
    env = container_environment(COMPOSE, STAGES, "api")
    assert published_container_ports("api") == {5000: 5000}
    assert env["FLASK_PORT"] == "5000"
    assert env["FLASK_HOST"] == "0.0.0.0", "bound to loopback, the published port would reach nothing"
    assert "5000" in [i.arguments for i in instructions(STAGES, "api", "EXPOSE")]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_build_targets_are_stages_of_the_dockerfile(service: str) -> None:
    build = SERVICES[service]["build"]
    assert (ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve() == ROOT / "Dockerfile"
    stage_names = re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", (ROOT / "Dockerfile").read_text(), re.M | re.I)
    assert build_target(SERVICES[service]) == service
    assert service in stage_names


def test_postgres_keeps_its_data_on_a_declared_named_volume() -> None:
    mounts = [str(m).split(":") for m in SERVICES["postgres"]["volumes"]]
    named = {source for source, target, *_ in mounts if target == "/var/lib/postgresql/data"}
    assert named and named <= set(COMPOSE.get("volumes") or {}), f"{named} must be declared under top-level volumes"


def test_postgres_image_is_15_pinned_to_a_minor() -> None:
    assert re.fullmatch(r"postgres:15\.\d+(-\w+)?", SERVICES["postgres"]["image"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_given_to_an_app_service_is_one_the_app_reads(service: str) -> None:
    given = set(environment_entries(SERVICES[service]))
    for path in env_file_paths(SERVICES[service]):
        assert path in ENV_FILES, f"{service} reads {path}; the documented settings file is .env"
        given |= set(read_env_file(ENV_FILES[path]))
    target = build_target(SERVICES[service])
    given |= set(image_env(STAGES, target or "")) - RUNTIME_VARIABLES
    # POSTGRES_* are the postgres image's settings; they reach the app services only through the shared .env.
    unread = sorted(v for v in given - set(ENVIRONMENT_VARIABLES) if not v.startswith("POSTGRES_"))
    assert not unread, f"{service} is given variables the app never reads (a typo?): {unread}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_database_url_reaches_the_compose_postgres_with_its_credentials(service: str) -> None:
    postgres_env = container_environment(COMPOSE, STAGES, "postgres")
    url = urlsplit(container_environment(COMPOSE, STAGES, service)["DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert (url.hostname, url.port) == ("postgres", 5432), "the host must be the compose service name"
    assert url.username == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert url.path == "/" + postgres_env["POSTGRES_DB"]


def test_env_example_is_the_settings_file_compose_reads() -> None:
    assert ".env" in [p for s in SERVICES.values() for p in env_file_paths(s)]
    settings = read_env_file(ENV_EXAMPLE)
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= {k for k, v in settings.items() if v}
    assert ".env" in (ROOT / ".gitignore").read_text().split(), ".env holds the password: it must stay git-ignored"


def test_default_commands_are_migrate_and_serve() -> None:
    assert default_command(STAGES, "migration-runner") == ["alembic", "upgrade", "head"]
    assert default_command(STAGES, "api") == ["pactmock", "serve"]
    assert service_command(COMPOSE, STAGES, "migration-runner") == ["alembic", "upgrade", "head"]
    assert service_command(COMPOSE, STAGES, "api") == ["pactmock", "serve"]


@pytest.mark.parametrize("target", APP_SERVICES)
def test_alembic_ini_and_migrations_are_in_the_working_directory(target: str) -> None:
    # alembic finds alembic.ini in the working directory; so does `pactmock serve`, to check the database's revision.
    workdir = instructions(STAGES, target, "WORKDIR")[-1].arguments
    landed = {lands for _, lands in copies(STAGES, target)}
    assert {f"{workdir}/alembic.ini", f"{workdir}/migrations"} <= landed


def test_api_serves_the_pacts_copied_into_the_image() -> None:
    pact_dir = image_env(STAGES, "api")["PACT_DIR"]
    assert container_path_to_repo(STAGES, "api", pact_dir) == ROOT / "pacts"


@pytest.mark.parametrize("target", APP_SERVICES)
def test_final_stages_run_as_a_non_root_user(target: str) -> None:
    user = image_user(STAGES, target)
    assert user is not None, f"{target} sets no USER: it would run as root"
    assert user.split(":")[0] not in ("root", "0")


def test_base_images_are_pinned_to_an_exact_release() -> None:
    stage_names = {s.name for s in STAGES}
    external = [s.base for s in STAGES if s.base not in stage_names]
    assert external
    for image in external:
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), f"{image} is not pinned"
    assert any(image.startswith("python:3.11.") for image in external)


def test_images_carry_no_test_extras() -> None:
    runs = " ".join(i.arguments for i in instructions(STAGES, "builder", "RUN"))
    assert "pip install" in runs and "[test]" not in runs


@pytest.mark.parametrize("target", APP_SERVICES)
def test_every_copied_path_is_in_the_build_context(target: str) -> None:
    patterns = dockerignore_patterns()
    for source, _ in copies(STAGES, target) + copies(STAGES, "builder"):
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which the repository does not have"
        assert not dockerignored(source, patterns), f"the Dockerfile copies {source}, which .dockerignore leaves out"


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    patterns = dockerignore_patterns()
    for path in (".env", ".venv/bin/python", ".git/HEAD", "pactmock.sqlite3", "app/__pycache__/cli.cpython-311.pyc"):
        assert dockerignored(path, patterns), path
