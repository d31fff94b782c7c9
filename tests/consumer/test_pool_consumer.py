"""Consumer side of the Pool Manager example: the pact the workspace launcher holds with the Pool Manager.

Each session drives `PoolManagerClient` (the launcher's code) against pact-python's mock server in one
provider state, so every interaction is what the client really sends. The sessions merge into
`WorkspaceLauncher-PoolManager.json`, and the last test checks that the committed
examples/pool-manager/WorkspaceLauncher-PoolManager.json is exactly that contract (`PACT_UPDATE=1`
rewrites it; `PACT_OUTPUT_DIR` names another folder, see example_recording.py).

Matchers cover what a stateful provider varies: pool names and pod ids in paths, pod ids, URLs and
passwords, the claim's time, the port map (any port, each to a URL), counts, and a pod's usage
wherever the call does not decide it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pact import Pact, match

from .example_recording import (
    DATETIME,
    EXAMPLE_TIME,
    JSON,
    Session,
    check_in,
    committed_folder,
    exactly,
    one_of,
    record,
)
from .pool_client import PoolManagerClient

CONSUMER = "WorkspaceLauncher"
PROVIDER = "PoolManager"
PACT_FILE = f"{CONSUMER}-{PROVIDER}.json"

TOKEN = "test-launcher"
POOL = "default-pool"
NEW_POOL = "team-pool"
POD_ID = "pod-1"
WORKSPACE_ID = "ws-1"
REPOSITORY = "https://github.com/example/app.git"
USAGES = ("free", "used")
POOL_REGEX = r"[A-Za-z0-9][A-Za-z0-9_-]*"
POD_ID_REGEX = r"pod-[A-Za-z0-9]+"
# A claim's time, or "" while the pod is free (a string either way: no nulls to match).
CLAIMED_AT_REGEX = "^(" + DATETIME.strip("^$") + ")?$"

# The two provider states: the model file's start fixture, and pod-1 claimed by workspace ws-1.
FREE_PODS = "the default pool has free pods"
POD_USED = f"pod {POD_ID} is used"


def headers() -> dict[str, Any]:
    """Every call carries a bearer key; the service accepts any that starts with `test-`."""
    return {"Authorization": match.regex(f"Bearer {TOKEN}", regex=r"^Bearer test-.+$")}


def pool_path(suffix: str) -> Any:
    """A path under a pool: any pool name (a pool first named is created)."""
    return match.regex(f"/pools/{POOL}{suffix}", regex=f"^/pools/{POOL_REGEX}{suffix}$")


def pod_path(suffix: str = "") -> Any:
    """The path of pod-1, or of an action on it: any pod id."""
    return match.regex(f"/workspaces/{POD_ID}{suffix}", regex=f"^/workspaces/{POD_ID_REGEX}{suffix}$")


def pod(usage: Any, *, claimed_by: str = "", claimed_at: str = "") -> dict[str, Any]:
    """A pod (a workspace) as the service answers it."""
    return {
        "id": match.regex(POD_ID, regex=f"^{POD_ID_REGEX}$"),
        "pool": match.regex(POOL, regex=f"^{POOL_REGEX}$"),
        "url": match.regex(f"https://{POD_ID}.pods.example.test", regex=r"^https?://\S+$"),
        "password": match.str("s3cret-pod-1"),
        "usage": usage,
        "claimedBy": match.str(claimed_by),
        "claimed_at": match.regex(claimed_at, regex=CLAIMED_AT_REGEX),
        # Port number -> the URL it is published at; a pod may publish any ports.
        "ports": match.each_value_matches(
            {"8080": f"https://{POD_ID}-8080.pods.example.test"},
            rules=match.regex(f"https://{POD_ID}-8080.pods.example.test", regex=r"^https?://\S+$"),
        ),
    }


def used_pod() -> dict[str, Any]:
    """pod-1 as workspace ws-1 holds it."""
    return pod(exactly("used"), claimed_by=WORKSPACE_ID, claimed_at=EXAMPLE_TIME)


def any_pod() -> dict[str, Any]:
    """A pod the launcher reads or updates: the example is pod-1 in use, but any pod may be free."""
    return pod(one_of("used", USAGES), claimed_by=WORKSPACE_ID, claimed_at=EXAMPLE_TIME)


def declare_free_pods(pact: Pact) -> None:
    """With free pods in the default pool: a claim, the pool's status and its pods; and a new pool."""
    (
        pact.upon_receiving(f"a request to claim a pod of {POOL} for workspace {WORKSPACE_ID}")
        .given(FREE_PODS)
        .with_request("GET", pool_path("/workspace"))
        .with_query_parameter("workspaceId", match.regex(WORKSPACE_ID, regex=r"^\S+$"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(used_pod(), JSON)
    )
    (
        pact.upon_receiving(f"a request for the status of {POOL}")
        .given(FREE_PODS)
        .with_request("GET", pool_path("/status"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(
            {
                "pool": match.regex(POOL, regex=f"^{POOL_REGEX}$"),
                "total": match.int(5),
                "available": match.int(5),
                "used": match.int(0),
                "pods": match.each_like(pod(one_of("free", USAGES))),
            },
            JSON,
        )
    )
    (
        pact.upon_receiving(f"a request for the pods of {POOL}")
        .given(FREE_PODS)
        .with_request("GET", pool_path("/workspaces"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({"workspaces": match.each_like(pod(one_of("free", USAGES)))}, JSON)
    )
    (
        pact.upon_receiving(f"a request to create pool {NEW_POOL} of 2 pods")  # needs nothing to exist
        .with_request("POST", "/pools")
        .with_headers(headers())
        .with_body({"name": match.regex(NEW_POOL, regex=f"^{POOL_REGEX}$"), "size": match.int(2)}, JSON)
        .will_respond_with(201)
        .with_body({"name": match.regex(NEW_POOL, regex=f"^{POOL_REGEX}$"), "size": match.int(2)}, JSON)
    )


def use_free_pods(base_url: str) -> None:
    """Open a workspace (a claim), look at the admin page of the pool, create a team's pool."""
    pools = PoolManagerClient(base_url, TOKEN)
    claimed = pools.claim(POOL, WORKSPACE_ID)
    assert (claimed["usage"], claimed["claimedBy"], claimed["pool"]) == ("used", WORKSPACE_ID, POOL)
    assert claimed["url"].startswith("http") and claimed["password"]
    assert all(url.startswith("http") for url in claimed["ports"].values())
    status = pools.pool_status(POOL)
    assert status["total"] == status["available"] + status["used"]
    assert status["available"] > 0 and status["pods"]
    assert [p["id"] for p in pools.workspaces(POOL)] == [POD_ID]
    assert pools.create_pool(NEW_POOL, 2) == {"name": NEW_POOL, "size": 2}


def declare_used_pod(pact: Pact) -> None:
    """With pod-1 claimed by workspace ws-1: read it, push repositories, mark it used, release it."""
    (
        pact.upon_receiving(f"a request for pod {POD_ID}")
        .given(POD_USED)
        .with_request("GET", pod_path())
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(any_pod(), JSON)
    )
    (
        pact.upon_receiving(f"a request to clone a repository into pod {POD_ID}")
        .given(POD_USED)
        .with_request("POST", pod_path("/update"))
        .with_headers(headers())
        .with_body({"repositories": match.each_like(match.str(REPOSITORY))}, JSON)
        .will_respond_with(200)
        .with_body({**any_pod(), "repositories": match.each_like(match.str(REPOSITORY))}, JSON)
    )
    (
        pact.upon_receiving(f"a request to mark pod {POD_ID} used")
        .given(POD_USED)
        .with_request("POST", pod_path("/mark-used"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body(used_pod(), JSON)
    )
    (
        pact.upon_receiving(f"a request to release pod {POD_ID}")
        .given(POD_USED)
        .with_request("POST", pod_path("/release"))
        .with_headers(headers())
        .will_respond_with(200)
        .with_body({**pod(exactly("free")), "claimedBy": exactly(""), "claimed_at": exactly("")}, JSON)
    )


def use_used_pod(base_url: str) -> None:
    """The launcher reconnects to its workspace, sets it up, and gives it back when the user is done."""
    pools = PoolManagerClient(base_url, TOKEN)
    assert pools.workspace(POD_ID)["claimedBy"] == WORKSPACE_ID
    assert pools.update(POD_ID, [REPOSITORY])["repositories"] == [REPOSITORY]
    assert pools.mark_used(POD_ID)["usage"] == "used"
    released = pools.release(POD_ID)
    assert (released["usage"], released["claimedBy"], released["claimed_at"]) == ("free", "", "")


SESSIONS = {
    FREE_PODS: Session(declare_free_pods, use_free_pods),
    POD_USED: Session(declare_used_pod, use_used_pod),
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session(name: str, tmp_path: Path) -> None:
    """The client gets what it expects from the mock server, and sends exactly the declared requests."""
    record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)


def test_committed_pact_is_the_recorded_one(tmp_path: Path) -> None:
    """examples/pool-manager/WorkspaceLauncher-PoolManager.json is exactly what the sessions record."""
    for name in sorted(SESSIONS):
        record(CONSUMER, PROVIDER, SESSIONS[name], tmp_path)
    check_in(tmp_path / PACT_FILE, committed_folder("pool-manager") / PACT_FILE)
