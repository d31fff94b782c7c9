"""The suite runs in two passes (`make test`): tests that measure or stress the server run alone, one at a
time (marked `serial` here), and the rest run in parallel with pytest-xdist. A test that times answers or
loads the machine must not share two cores with another's server, or its figures and deadlines mean nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
# Whole folders whose tests load the server on purpose, time it, or kill its processes.
SERIAL_FOLDERS = ("reliability", "ship", "browser")
# Single files elsewhere that do the same: benchmark smokes and the very large contracts.
SERIAL_FILES = frozenset(
    {
        "unit/test_bench_smoke.py",
        "unit/test_compare_bench_smoke.py",
        "unit/test_pg_ceiling_smoke.py",
        "unit/test_soak_smoke.py",
        "integration/test_large_contracts.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "serial: runs alone in the serial pass of `make test`, never beside another")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(item.path).resolve().relative_to(HERE.resolve()).as_posix()
        if where.split("/", 1)[0] in SERIAL_FOLDERS or where in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
