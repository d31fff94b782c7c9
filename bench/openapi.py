"""Time to generate the OpenAPI document (issue 19) for synthetic pacts of 1,000 and 100,000 interactions.

Run from the project root::

    python -m bench.openapi                  # 1,000 and 100,000 interactions, 3 rounds each
    python -m bench.openapi --counts 1000 --rounds 5

Each count gets one pact file from tests/support/synthetic.py (the shapes the other benches use: regex and
literal paths, query, header and body rules, provider states), loaded once with every interaction compiled,
as `pactmock openapi` loads it. A round times `openapi_document` alone (the median of the rounds is the
figure), then the JSON text of the result; the load time and the document's size are shown beside it.
This script reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path

from app.contract.read.loader import load_pacts
from app.openapi import openapi_document
from tests.support.synthetic import write_pact


def measure(count: int, rounds: int, folder: Path) -> dict[str, float]:
    """Load a synthetic pact of `count` interactions, then time the document `rounds` times."""
    pact = write_pact(folder, count)
    started = time.perf_counter()
    loaded = load_pacts(pact)
    load_seconds = time.perf_counter() - started
    assert not loaded.problems, loaded.problems
    generation, serialization = [], []
    size = 0
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        document = openapi_document(loaded.contracts)
        generation.append(time.perf_counter() - started)
        started = time.perf_counter()
        size = len(json.dumps(document, ensure_ascii=False).encode())
        serialization.append(time.perf_counter() - started)
    return {
        "interactions": count,
        "paths": len(document["paths"]),
        "load_s": load_seconds,
        "generate_s": statistics.median(generation),
        "json_s": statistics.median(serialization),
        "megabytes": size / 1e6,
    }


def main() -> None:
    """Print one line per count."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    print(f"{'interactions':>12} {'paths':>6} {'load s':>8} {'generate s (median)':>20} {'JSON s':>8} {'MB':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for count in arguments.counts:
            row = measure(count, arguments.rounds, Path(folder))
            print(
                f"{row['interactions']:>12,} {row['paths']:>6,} {row['load_s']:>8.2f} {row['generate_s']:>20.3f}"
                f" {row['json_s']:>8.2f} {row['megabytes']:>7.1f}"
            )


if __name__ == "__main__":
    main()
