"""Instructions per reading unit of work, default session against a session, counted by callgrind (repeatable
where the shared machine's timings are not). Used by bench/sessions.py --callgrind; see docs/sessions.md.

    python -m bench.sessions_callgrind URL default|session COUNT     (run under valgrind --tool=callgrind)

The per-unit cost is the difference between two runs with different COUNTs divided by their difference: the
start-up (imports, the engine, the first connection, making the session) is the same in both and cancels out.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from app.domain.sessions import enter_session
from app.settings import Settings
from app.store.unit_of_work import SqlStore

SESSION = "callgrind"


def units_of_work(url: str, mode: str, count: int) -> None:
    """`count` reading units of work with one query each, in the default session or in a session."""
    store = SqlStore.connect(Settings(database_url=url))
    if mode == "session":
        enter_session(SESSION)
    for _ in range(count + 1):  # the first one warms (and makes the session)
        with store.reading() as uow:
            uow.settings.get("clock")


def instructions(url: str, mode: str, count: int) -> int:
    """The instructions callgrind counts for a whole run of `units_of_work`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        finished = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", __name__, url, mode]
            + [str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(r"Collected : (\d+)", finished.stderr)
        if found is None:
            raise RuntimeError(f"callgrind gave no total:\n{finished.stderr[-2000:]}")
        return int(found.group(1))


def per_unit_of_work(url: str, low: int = 50, high: int = 450) -> dict[str, float]:
    """Instructions per unit of work in each mode: (I(high) - I(low)) / (high - low)."""
    # The session made first, outside the count: else only the first counted run would pay for making it.
    subprocess.run([sys.executable, "-m", __name__, url, "session", "0"], capture_output=True, check=True)
    return {
        mode: (instructions(url, mode, high) - instructions(url, mode, low)) / (high - low)
        for mode in ("default", "session")
    }


if __name__ == "__main__":
    units_of_work(sys.argv[1], sys.argv[2], int(sys.argv[3]))
