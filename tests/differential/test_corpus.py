"""Differential test on real pact files: pactmock must verify every interaction the reference verifies.

For each file in ``tests/corpus/`` (sources in ``tests/corpus/SOURCES.md``), pactmock and `pact stub`
(pact-stub-server, the reference) each serve the file alone, and the official Pact verifier checks
every interaction against both. An interaction is a test: it fails when the verifier passes it
against the reference and not against pactmock, with the verifier's reason.

``KNOWN_GAPS`` lists the interactions pactmock is known to fail (issue 12's defect classes); they are
strict expected failures, so a fix makes them fail until they are taken off the list.
``REFERENCE_WRONG`` lists interactions the reference verifies although they are wrong; see
``docs/conformance.md`` for each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.differential.conftest import CORPUS
from tests.differential.reference import Comparison, http_descriptions, missing_reason

CLASS_3 = "defect class 3: no Content-Type in the pact, pactmock answers text/html where the reference detects the type"
CLASS_4 = "defect class 4: a V3 body of a binary content type is base64 in the pact and not decoded"
SAME_REQUEST = (
    "not in issue 12's list: two interactions with the same request (other descriptions) get 400 "
    "'The browser (or proxy) sent a request that this server could not understand'"
)

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("pactbroker-example-v1.json", "a request for something"): CLASS_3,
    ("pactjvm-v4-combined.json", "test http interaction"): CLASS_3,
    ("stubserver-bodies.json", "test interaction"): CLASS_3,
    ("stubserver-bodies.json", "test interaction 2"): CLASS_3,
    ("stubserver-query-params.json", "test interaction"): CLASS_3,
    ("stubserver-query-params.json", "test interaction - query 1"): CLASS_3,
    ("stubserver-query-params.json", "test interaction - query 2"): CLASS_3,
    ("stubserver-repeated-headers.json", "test interaction"): CLASS_3,
    ("pactphp-binary.json", "A get request to /image.jpg"): CLASS_4,
    ("pactjvm-pdf-unencoded.json", "a request for a PDF"): CLASS_4,
    ("pactphp-multipart.json", "A put request to /user-profile"): CLASS_4,
    ("pactjs-filter-by-description.json", "a request to be used"): SAME_REQUEST,
    (
        "pactjs-filter-by-description.json",
        "a request to be used because it's description is part of what is given in `PACT_DESCRIPTION`",
    ): SAME_REQUEST,
}

# Interactions the reference verifies wrongly: not held against pactmock (docs/conformance.md says why).
REFERENCE_WRONG: dict[tuple[str, str], str] = {}


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


def test_every_corpus_file_has_its_source() -> None:
    sources = (CORPUS / "SOURCES.md").read_text()
    files = corpus_files()
    assert len(files) >= 30
    assert [f.name for f in files if f"`{f.name}`" not in sources] == []
