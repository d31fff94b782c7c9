"""What the hook seam costs a route per request, in-process: the web layer's `Call(...)`, `Registry.find` and
the binding's handler around a hook that does nothing but answer, with no server and no database.

Run from the project root (or with PYTHONPATH naming another checkout, to compare two commits)::

    python -m bench.hook_seam                # 200,000 requests, best of 5 rounds: microseconds per request
"""

from __future__ import annotations

import argparse
import re
import timeit
from datetime import UTC, datetime
from typing import Any

from app.domain.lifecycle import Durations
from app.domain.model import Policy
from app.providers.registry import Answer, Binding, Call, Registry

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HEADERS = {"content-type": "application/json", "user-agent": "epx_client_1.2.2"}


def answer(_call: Any) -> Answer:
    """A hook that only answers: what is left is the seam's own cost."""
    return Answer(200, {"runResponses": []})


def one_request(registry: Registry, policy: Policy) -> Answer:
    """One routed request as web/bound.py makes it: the call, the route, the handler."""
    found = registry.find("Epistemix", "POST", "/runs")
    assert found is not None
    handler, params = found
    call = Call(
        store=None,  # the hook never reaches for it
        policy=policy,
        clock=lambda: NOW,
        json={"runRequests": []},
        data=b'{"runRequests": []}',
        content_type="application/json",
        query={},
        headers=HEADERS,
        path_params=params,
        base_url="http://localhost:5000",
    )
    return handler(call)


def main() -> None:
    """Print microseconds per request, best of the rounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registry = Registry([Binding("Epistemix", "POST", re.compile(r"/runs"), answer)])
    policy = Policy(user_id=456, durations=Durations(1, 1, 1))
    assert one_request(registry, policy).status == 200
    rounds = timeit.repeat(lambda: one_request(registry, policy), number=args.requests, repeat=args.rounds)
    print(f"hook seam: {min(rounds) / args.requests * 1e6:.2f} us per request (best of {args.rounds})")


if __name__ == "__main__":
    main()
