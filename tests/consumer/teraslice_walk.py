"""What ts-topy reads from a Teraslice master, read with ts-topy's own client and models.

`walk(base_url)` makes the calls the ts-topy monitor makes, in its order (`TerasliceApp.fetch_data`, then
a click on an execution row: `fetch_and_show_ex`), with the values it sends (`size=1000`), and returns
what the client parsed. It also reads `/v1/cluster/state`, which ts-topy 0.5.1 no longer fetches in its
refresh loop but still models (`ClusterState`, `Node`, `Worker`): there is no `fetch_` method for it, so
the walk goes through the client's own `_fetch_json` and wraps the answer, an object keyed by node id
(Teraslice's documented shape), into `ClusterState(nodes=...)`.

The consumer test records the pact from this walk; the walkthrough test runs it against pactmock.
"""

from __future__ import annotations

from typing import Any

from ts_topy.client import TerasliceClient
from ts_topy.models import ClusterState

# What the monitor asks for on every refresh (ts_topy/app.py, TerasliceApp.fetch_data).
PAGE_SIZE = 1000


def read_cluster_state(client: TerasliceClient) -> ClusterState:
    """The nodes and their workers: ts-topy's `ClusterState` over the answer's node-id keyed object."""
    return ClusterState(nodes=client._fetch_json("/v1/cluster/state"))


def walk(base_url: str, *, timeout: int = 10) -> dict[str, Any]:
    """Read a cluster as the monitor does and return what ts-topy parsed.

    Keys: `cluster_state` (ClusterState), `controllers` (list of Controller), `jobs` (list of Job, the
    first page of 1000), `executions` (list of ExecutionContext, the first page of 1000), `execution`
    (the raw answer for the first execution, as the detail view shows it) and `job` (the raw answer for
    that execution's job, which the detail view fetches next).
    """
    with TerasliceClient(base_url, timeout=timeout) as client:
        cluster_state = read_cluster_state(client)
        controllers = client.fetch_controllers()
        jobs = client.fetch_jobs(size=PAGE_SIZE)
        executions = client.fetch_execution_contexts(size=PAGE_SIZE)
        execution = client.fetch_execution_context_by_id(executions[0].ex_id) if executions else None
        job = client.fetch_job_by_id(execution["job_id"]) if execution else None
    return {
        "cluster_state": cluster_state,
        "controllers": controllers,
        "jobs": jobs,
        "executions": executions,
        "execution": execution,
        "job": job,
    }
