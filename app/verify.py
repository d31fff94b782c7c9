"""`pactmock verify`: the official Pact verifier (pact-python) over every pact in a folder, against any provider."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class VerifierMissing(RuntimeError):
    """pact-python is an optional dependency of the CLI."""


@dataclass
class Verdict:
    """What the verifier said about one pact file: passed or not, a one-line summary and its full output."""

    pact_file: Path
    provider: str
    passed: bool
    summary: str
    output: str


def verify_folder(
    url: str,
    pact_dir: Path,
    states_url: str | None,
    timeout_ms: int = 10_000,
    verified: Callable[[Verdict], None] = lambda verdict: None,
) -> list[Verdict]:
    """Verify the provider at `url` against every pact file in `pact_dir`, one verdict per file.

    `verified` hears each verdict as soon as it is known (a progress bar's feed: a file can take a while).
    """
    # The verifier reports usage over the network unless told not to; a mock runs offline and in CI.
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    try:
        from pact import Verifier
    except ImportError:
        raise VerifierMissing("pact-python is not installed: pip install 'pactmock[verify]'") from None
    verdicts = []
    for pact_file in sorted(pact_dir.glob("*.json")):
        provider = _provider(pact_file)
        verifier = verifier_for(Verifier, pact_file, url, states_url, timeout_ms)
        try:
            verifier.verify()
            passed = True
        except RuntimeError:
            passed = False
        results: Any = verifier.results
        passed = passed and bool(results.get("result"))
        verdicts.append(Verdict(pact_file, provider, passed, _summary(results), verifier.output(strip_ansi=True)))
        verified(verdicts[-1])
    return verdicts


def verifier_for(verifier_class: Any, pact_file: Path, url: str, states_url: str | None, timeout_ms: int) -> Any:
    """pact-python's Verifier over one pact file against `url`, provider states set up through `states_url`."""
    verifier = (
        # The verifier insists the transport's host is the one it was created with.
        verifier_class(_provider(pact_file), host=urlsplit(url).hostname or "localhost")
        .add_transport(url=url)
        .add_source(pact_file)
        .set_error_on_empty_pact(enabled=False)
        .set_request_timeout(timeout_ms)
    )
    if states_url:
        verifier = verifier.state_handler(states_url, teardown=True, body=True)
    return verifier


def _provider(pact_file: Path) -> str:
    try:
        return str(json.loads(pact_file.read_bytes())["provider"]["name"])
    except (ValueError, KeyError, TypeError):
        return pact_file.stem


def _summary(results: Any) -> str:
    errors = results.get("errors") or []
    if not errors:
        return "all interactions passed"
    names = [str(e.get("interaction", "?")) for e in errors if isinstance(e, dict)]
    return f"{len(errors)} failed: " + "; ".join(names)
