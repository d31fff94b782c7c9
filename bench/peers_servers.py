"""How `bench.peers` starts each peer, and where the peers installed by ``make bench-peers`` live.

Every peer listens on 127.0.0.1 on a free port and logs to a file in the run's folder. Settings chosen so that no
peer pays for something the others skip: WireMock keeps no request journal and logs no requests; Mockoon logs no
transactions to a file; json-server is quiet; pactmock runs as ``pactmock serve`` does (its CLI defaults).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.compare import HOST, mock_env

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = Path(os.environ.get("PEERS_DIR", ROOT / "bench" / ".peers"))
MODULES = PEERS_DIR / "node_modules"

PACTMOCK = "pactmock"
BARE = "bare granian"
BARE_RSGI = "bare granian RSGI"
STUB = "pact stub"
WIREMOCK = "WireMock"
MOCKOON = "Mockoon"
JSON_SERVER = "json-server"


def _beside_python(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def wiremock_jar() -> Path | None:
    found = sorted((MODULES / "wiremock").glob("**/wiremock-standalone*.jar")) if MODULES.exists() else []
    return found[-1] if found else None


def mockoon_cli() -> Path | None:
    path = MODULES / "@mockoon" / "cli" / "bin" / "run.js"
    return path if path.exists() else None


def json_server_bin() -> Path | None:
    path = MODULES / "json-server" / "lib" / "cli" / "bin.js"
    return path if path.exists() else None


def npm_version(package: str) -> str | None:
    try:
        return str(json.loads((MODULES / package / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def java_version() -> str | None:
    if not shutil.which("java"):
        return None
    done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=20, check=False)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else None


def missing(peer: str) -> str | None:
    """Why ``peer`` cannot run here, or None when it can."""
    if peer == STUB and _beside_python("pact") is None:
        return "pact stub not installed (pip install pact-python-cli)"
    if peer == WIREMOCK:
        if wiremock_jar() is None:
            return "WireMock not installed (make bench-peers)"
        if not shutil.which("java"):
            return "no java on PATH (WireMock needs Java 11 or newer)"
    if peer in (MOCKOON, JSON_SERVER) and not shutil.which("node"):
        return "no node on PATH"
    if peer == MOCKOON and mockoon_cli() is None:
        return "Mockoon CLI not installed (make bench-peers)"
    if peer == JSON_SERVER and json_server_bin() is None:
        return "json-server not installed (make bench-peers)"
    return None


def versions() -> dict[str, str | None]:
    from importlib import metadata

    from bench.compare import stub_version

    def package(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        PACTMOCK: package("pactmock"),
        BARE: f"granian {package('granian')}",
        BARE_RSGI: f"granian {package('granian')}",
        STUB: stub_version(_beside_python("pact")),
        WIREMOCK: npm_version("wiremock"),
        "java": java_version(),
        MOCKOON: npm_version("@mockoon/cli"),
        JSON_SERVER: npm_version("json-server"),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if shutil.which("node")
        else None,
    }


def serve_layout() -> tuple[int, int]:
    """(workers, threads) of ``pactmock serve`` at its defaults, read from the CLI and the settings."""
    from app.cli import serve
    from app.settings import Settings

    workers = next(p.default for p in serve.params if p.name == "workers")
    return int(workers), Settings().threads  # type: ignore[arg-type]


# --- commands ----------------------------------------------------------------------------------------------------


def pactmock(port: int, pact_dir: Path, database_url: str) -> tuple[list[str], dict[str, str]]:
    command = [_beside_python("pactmock") or "pactmock", "serve", "--host", HOST, "--port", str(port)]
    return command, mock_env(pact_dir, database_url)


def bare_granian(port: int, answer_file: Path, *, rsgi: bool = False) -> tuple[list[str], dict[str, str]]:
    workers, threads = serve_layout()
    command = [sys.executable, "-m", "granian", "--interface", "rsgi" if rsgi else "wsgi", "--workers", str(workers)]
    # RSGI runs the app on each worker's event loop: granian takes no blocking threads for it.
    command += [] if rsgi else ["--blocking-threads", str(threads)]
    command += ["--http", "1", "--no-ws", "--log-level", "warning", "--host", HOST, "--port", str(port)]
    command.append("bench.peers_bare:rsgi_application" if rsgi else "bench.peers_bare:application")
    env = {**os.environ, "PEERS_BARE_ANSWER": str(answer_file), "PYTHONPATH": str(ROOT)}
    return command, env


def pact_stub(port: int, pact_file: Path) -> tuple[list[str], dict[str, str]]:
    return [_beside_python("pact") or "pact", "stub", "-p", str(port), "-f", str(pact_file)], dict(os.environ)


def wiremock(port: int, root_dir: Path) -> tuple[list[str], dict[str, str]]:
    jar = wiremock_jar()
    command = ["java", "-jar", str(jar), "--port", str(port), "--bind-address", HOST, "--root-dir", str(root_dir)]
    command += ["--disable-banner", "--no-request-journal", "--disable-request-logging"]
    return command, dict(os.environ)


def mockoon(port: int, environment_file: Path) -> tuple[list[str], dict[str, str]]:
    command = ["node", str(mockoon_cli()), "start", "--data", str(environment_file), "--port", str(port)]
    command += ["--hostname", HOST, "--disable-log-to-file", "--disable-admin-api", "--repair"]
    return command, dict(os.environ)


def json_server(port: int, database_file: Path) -> tuple[list[str], dict[str, str]]:
    command = ["node", str(json_server_bin()), str(database_file), "--port", str(port), "--host", HOST, "--quiet"]
    return command, dict(os.environ)
