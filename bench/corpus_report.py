"""How much of the real-pact corpus pactmock serves as the reference does.

    python -m bench.corpus_report [--json] [FILE ...]

For each pact in ``tests/corpus/`` (or the files named), pactmock and `pact stub` (pact-stub-server)
each serve the file alone and the official verifier checks every interaction against both (see
``tests/support/reference.py``). Prints, per file, the interactions pactmock fails that the
reference verifies, then the figure: "pactmock verified X of the Y interactions the reference
verified, on N files", pactmock's count over every HTTP interaction, and the files either side refuses
whole. Name files to check a set outside the corpus (a held-out set: ``/tmp/holdout/*.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tests.support.reference import Comparison, compare_with_reference, missing_reason

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def figure(comparisons: list[Comparison]) -> str:
    verified = sum(len(c.verified_by_reference()) for c in comparisons)
    failed = sum(len(c.failed_by_pactmock()) for c in comparisons)
    every = sum(len(c.descriptions) for c in comparisons)
    lines = [
        f"pactmock verified {verified - failed} of the {verified} interactions the reference verified, "
        f"on {len(comparisons)} files",
        f"pactmock verified {sum(len(_verified_by_pactmock(c)) for c in comparisons)} of the {every} HTTP interactions in all",
    ]
    for side in ("reference", "pactmock"):
        refused = [c.pact_file.name for c in comparisons if getattr(c, f"refused_by_{side}")]
        lines.append(f"files refused whole by {side}: {len(refused)}" + (f" ({', '.join(refused)})" if refused else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="pact files (default: every file in tests/corpus)")
    parser.add_argument("--json", action="store_true", help="print per-file results as JSON instead")
    args = parser.parse_args(argv)
    comparisons = []
    with tempfile.TemporaryDirectory(prefix="corpus-report-") as work:
        for pact_file in args.files or corpus_files():
            folder = Path(work) / pact_file.stem
            folder.mkdir()
            comparison = compare_with_reference(pact_file, folder)
            comparisons.append(comparison)
            if not args.json:
                _print_file(comparison)
    if args.json:
        json.dump([_as_json(c) for c in comparisons], sys.stdout, indent=2)
        print()
    else:
        print(figure(comparisons))
    return 0


def _print_file(comparison: Comparison) -> None:
    reference = len(comparison.verified_by_reference())
    failed = comparison.failed_by_pactmock()
    print(
        f"{comparison.pact_file.name}: {reference - len(failed)}/{reference} (reference: {reference} of "
        f"{len(comparison.descriptions)}; pactmock: {len(_verified_by_pactmock(comparison))} of {len(comparison.descriptions)})"
    )
    for name, side in (("reference", comparison.refused_by_reference), ("pactmock", comparison.refused_by_pactmock)):
        if side:
            print(f"  refused whole by {name}: {side}")
    for description in failed:
        print(f"  FAIL {description}: {missing_reason(comparison, description)}")
    for description, reason in _reference_failures(comparison).items():
        print(f"  (the reference fails {description}: {reason})")


def _verified_by_pactmock(comparison: Comparison) -> list[str]:
    """Every interaction the verifier passes against pactmock, whatever the reference said of it."""
    return [d for d in comparison.descriptions if d in comparison.pactmock and comparison.pactmock[d].passed]


def _reference_failures(comparison: Comparison) -> dict[str, str]:
    verified = set(comparison.verified_by_reference())
    return {
        d: (comparison.reference[d].reason if d in comparison.reference else "not reported by the verifier")
        for d in comparison.descriptions
        if d not in verified
    }


def _as_json(comparison: Comparison) -> dict[str, object]:
    return {
        "file": comparison.pact_file.name,
        "interactions": comparison.descriptions,
        "verified_by_reference": comparison.verified_by_reference(),
        "verified_by_pactmock": _verified_by_pactmock(comparison),
        "failed_by_pactmock": {d: missing_reason(comparison, d) for d in comparison.failed_by_pactmock()},
        "failed_by_reference": _reference_failures(comparison),
        "refused_by_reference": comparison.refused_by_reference,
        "refused_by_pactmock": comparison.refused_by_pactmock,
    }


if __name__ == "__main__":
    sys.exit(main())
