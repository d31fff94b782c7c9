"""Each corpus file is served and verified once per session, then judged interaction by interaction.

The comparisons made are summed up at the end of the run: the figure of issue 12.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.reference import Comparison, compare_with_reference

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
_COMPARISONS: dict[str, Comparison] = {}


@pytest.fixture(scope="session")
def corpus_comparison(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Comparison]:
    """pactmock and `pact stub` each serve one corpus file (by name) and the verifier checks both, once."""

    def compare(name: str) -> Comparison:
        if name not in _COMPARISONS:
            work_dir = tmp_path_factory.mktemp(Path(name).stem)
            _COMPARISONS[name] = compare_with_reference(CORPUS / name, work_dir)
        return _COMPARISONS[name]

    return compare


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _COMPARISONS:
        return
    comparisons = list(_COMPARISONS.values())
    verified = sum(len(c.verified_by_reference()) for c in comparisons)
    failed = sum(len(c.failed_by_pactmock()) for c in comparisons)
    terminalreporter.section("differential corpus")
    terminalreporter.line(
        f"pactmock verified {verified - failed} of the {verified} interactions the reference verified, "
        f"on {len(comparisons)} files"
    )
    for side in ("reference", "pactmock"):
        refused = [c.pact_file.name for c in comparisons if getattr(c, f"refused_by_{side}")]
        terminalreporter.line(f"files refused whole by {side}: {len(refused)} {' '.join(refused)}".rstrip())
