"""What the `epx` client sends with every Epistemix request, and a run request it submits: shared by the tests.

The consumer test (tests/consumer/) keeps its own copy on purpose: it is the source of the contract.
"""

from __future__ import annotations

from typing import Any

EPX_HEADERS = {
    "Offline-Token": "Bearer secret-token",
    "Content-Type": "application/json",
    "fredcli-version": "1.2.3",
    "user-agent": "epx_client_1.2.3",
}
OCTET_STREAM = {"Content-Type": "application/octet-stream"}


def run_request(job_id: Any, **changes: Any) -> dict[str, Any]:
    """A run submission as `epx` sends it, for job `job_id`, with fields replaced by `changes`."""
    request = {
        "jobId": job_id,
        "workingDir": "/home/epx/run",
        "size": "hot",
        "fredVersion": "latest",
        "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
        "fredArgs": [{"flag": "-p", "value": "main.fred"}],
        "fredFiles": ["/home/epx/main.fred"],
    }
    request.update(changes)
    return request
