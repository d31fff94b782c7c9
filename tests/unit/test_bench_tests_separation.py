"""bench/ and tests/ never import each other: what both need lives in tests/support/.

Read with ast, nothing is imported: a module under tests/ imports no `bench`; a module under bench/
imports from `tests` only `tests.support`; and tests/support/ imports nothing else from tests/, so
that a bench importing it does not pull test modules in behind it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = "tests.support"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """Every module name `source` imports, relative imports resolved against `module`."""
    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # `from package import module` imports a module too: name each one so the rule sees it.
            names.extend(f"{stem}.{alias.name}" for alias in node.names)
    return names


def forbidden_imports(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """The imports of `module` that break the rule, as "module imports name"."""
    broken = []
    for name in imported_names(module, source, is_package=is_package):
        if _within(module, SHARED):
            wrong = _within(name, "bench") or (_within(name, "tests") and not _within(name, SHARED))
        elif _within(module, "tests"):
            wrong = _within(name, "bench")
        elif _within(module, "bench"):
            wrong = _within(name, "tests") and not _within(name, SHARED)
        else:
            wrong = False
        if wrong:
            broken.append(f"{module} imports {name}")
    return broken


def test_bench_and_tests_share_code_only_through_tests_support() -> None:
    sources = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    assert any(path.parent.name == "support" for path in sources), "tests/support/ is missing"

    broken = [
        problem
        for path in sources
        for problem in forbidden_imports(
            _module_name(path), path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
        )
    ]

    assert broken == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("tests.unit.test_x", "from bench import engine"),
        ("tests.unit.test_x", "import bench.compare"),
        ("tests.support.epx", "from tests.integration.conftest import free_port"),
        ("tests.support.epx", "from ..integration import conftest"),
        ("bench.compare", "from tests.epx import EPX_HEADERS"),
        ("bench.compare", "import tests.differential.reference"),
        ("bench.compare", "from tests import epx"),
    ],
)
def test_the_rule_catches_each_way_across(module: str, source: str) -> None:
    assert forbidden_imports(module, source) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("bench.compare", "from tests.support.epx import EPX_HEADERS"),
        ("bench.compare", "from tests.support import synthetic"),
        ("bench.pg_ceiling", "from .compare import ROOT"),
        ("tests.unit.test_x", "from tests.integration.conftest import start_mock"),
        ("tests.support.reference", "from .mock_process import start_mock"),
    ],
)
def test_the_rule_lets_shared_code_through(module: str, source: str) -> None:
    assert forbidden_imports(module, source) == []
