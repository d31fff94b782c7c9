"""Differential test on real pact files: pactmock must verify every interaction the reference verifies.

For each file in ``tests/corpus/`` (sources in ``tests/corpus/SOURCES.md``), pactmock and `pact stub`
(pact-stub-server, the reference) each serve the file alone, and the official Pact verifier checks
every interaction against both. An interaction is a test: it fails when the verifier passes it
against the reference and not against pactmock, with the verifier's reason.

``KNOWN_GAPS`` lists the interactions pactmock is known to fail (issue 12's defect classes); they are
strict expected failures, so a fix makes them fail until they are taken off the list.
``REFERENCE_WRONG`` lists interactions the reference verifies although they are wrong; see
``docs/conformance.md`` for each. ``BEYOND_THE_REFERENCE`` lists interactions the reference cannot
verify (values injected by provider states) and pactmock must.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.differential.conftest import CORPUS
from tests.support.reference import Comparison, http_descriptions, missing_reason

# Interactions pactmock fails that the reference verifies, each with its defect class, e.g.
#   ("pactphp-binary.json", "A get request to /image.jpg"): "defect class 4: base64 binary body not decoded",
# Empty since the fixes for issue 12's classes 3 and 4 and for two interactions sharing one request.
KNOWN_GAPS: dict[tuple[str, str], str] = {}

# Interactions the reference verifies wrongly: not held against pactmock (docs/conformance.md says why).
REFERENCE_WRONG: dict[tuple[str, str], str] = {}

# Interactions the reference does not verify and pactmock must (docs/conformance.md says why the reference fails).
BEYOND_THE_REFERENCE: dict[tuple[str, str], str] = {
    ("pactjvm-state-param-injected.json", "Hello John"): "defect class 7: a path injected by a provider state",
    ("pactphp-generators.json", "A get request to /generators"): "defect class 7: a body field injected by a state",
}


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def corpus_interactions() -> Iterator[object]:
    for pact_file in corpus_files():
        for description in http_descriptions(pact_file):
            key = (pact_file.name, description)
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[key])] if key in KNOWN_GAPS else []
            yield pytest.param(pact_file.name, description, id=f"{pact_file.stem}::{description}", marks=marks)


@pytest.mark.parametrize(("file_name", "description"), list(corpus_interactions()))
def test_pactmock_verifies_what_the_reference_verifies(
    corpus_comparison: Callable[[str], Comparison], file_name: str, description: str
) -> None:
    if (file_name, description) in REFERENCE_WRONG:
        pytest.skip(f"the reference is wrong here: {REFERENCE_WRONG[(file_name, description)]}")
    comparison = corpus_comparison(file_name)
    if comparison.refused_by_reference:
        pytest.skip(f"the reference refuses the file: {comparison.refused_by_reference}")
    reference = comparison.reference.get(description)
    if (file_name, description) in BEYOND_THE_REFERENCE:
        pactmock = comparison.pactmock.get(description)
        assert pactmock is not None and pactmock.passed, (
            f"{file_name}: {BEYOND_THE_REFERENCE[(file_name, description)]}: {missing_reason(comparison, description)}"
        )
        return
    if reference is None or not reference.passed:
        # Nothing to compare: the reference itself does not verify it (docs/conformance.md lists why).
        pytest.skip(f"the reference does not verify it: {reference.reason if reference else 'not reported'}")
    pactmock = comparison.pactmock.get(description)
    assert pactmock is not None and pactmock.passed, (
        f"{file_name}: the verifier passes {description!r} against pact stub but not against pactmock: "
        f"{missing_reason(comparison, description)}"
    )


def test_known_gaps_and_exclusions_name_corpus_interactions() -> None:
    """A stale entry (a renamed file or description) would silently stop covering anything."""
    present = {(f.name, d) for f in corpus_files() for d in http_descriptions(f)}
    assert set(KNOWN_GAPS) - present == set()
    assert set(REFERENCE_WRONG) - present == set()
    assert set(BEYOND_THE_REFERENCE) - present == set()


def test_every_corpus_file_has_its_source() -> None:
    sources = (CORPUS / "SOURCES.md").read_text()
    files = corpus_files()
    assert len(files) >= 30
    assert [f.name for f in files if f"`{f.name}`" not in sources] == []
