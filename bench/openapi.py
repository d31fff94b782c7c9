"""Time to generate the OpenAPI document (issue 19) for synthetic pacts of 1,000 and 100,000 interactions.

Run from the project root::

    python -m bench.openapi                  # 1,000 and 100,000 interactions, 3 rounds each
    python -m bench.openapi --counts 1000 --rounds 5

Each count gets one pact file from tests/support/synthetic.py (the shapes the other benches use: regex and
literal paths, query, header and body rules, provider states), loaded once with every interaction compiled,
as `pactmock openapi` loads it. A round times `openapi_document` alone (the median of the rounds is the
figure), then the JSON text of the result; the load time, the document's size and the process's peak RSS are
shown beside it. Each time is given twice: wall clock, and this process's CPU time (user + system), which a
machine shared with other work disturbs far less. This script reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
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
    started, cpu = time.perf_counter(), time.process_time()
    loaded = load_pacts(pact)
    load_seconds, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not loaded.problems, loaded.problems
    generation, generation_cpu, serialization = [], [], []
    size = paths = 0
    for _ in range(rounds):
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        document = openapi_document(loaded.contracts)
        generation.append(time.perf_counter() - started)
        generation_cpu.append(time.process_time() - cpu)
        started = time.perf_counter()
        size = len(json.dumps(document, ensure_ascii=False).encode())
        serialization.append(time.perf_counter() - started)
        paths = len(document["paths"])
        del document  # two documents of 100,000 interactions at once would double the peak
    return {
        "interactions": count,
        "paths": paths,
        "load_s": load_seconds,
        "load_cpu_s": load_cpu,
        "generate_s": statistics.median(generation),
        "generate_cpu_s": statistics.median(generation_cpu),
        "json_s": statistics.median(serialization),
        "megabytes": size / 1e6,
        # ru_maxrss is in kB on Linux: the peak of this whole process so far (so it only grows with the count).
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Print one line per count."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    print(
        f"{'interactions':>12} {'paths':>6} {'load s (cpu)':>15} {'generate s (cpu), median':>25} {'JSON s':>7}"
        f" {'MB':>6} {'peak RSS MB':>11}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in arguments.counts:
            row = measure(count, arguments.rounds, Path(folder))
            load = f"{row['load_s']:.2f} ({row['load_cpu_s']:.2f})"
            generate = f"{row['generate_s']:.3f} ({row['generate_cpu_s']:.3f})"
            print(
                f"{row['interactions']:>12,} {row['paths']:>6,} {load:>15} {generate:>25} {row['json_s']:>7.2f}"
                f" {row['megabytes']:>6.1f} {row['peak_rss_mb']:>11.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
