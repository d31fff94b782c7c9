"""The soak's request mix, and the client's ledger of every write the mock acknowledged.

Three kinds of request, picked at random by weight for each tick of the steady rate:

* good: what the ``epx`` client does: register jobs, submit runs, list a job's runs (every run acknowledged
  for that job before the request must be in the answer), ask for pre-signed upload URLs and PUT bytes to
  them (the answer's ``x-pactmock-sha256`` must be the bytes' own);
* bad: malformed JSON, missing headers, wrong types, unknown jobs, odd paths, bodies over the limits; each
  must get its own 4xx problem+json, never a 5xx;
* control: ``/health``, ``/``, provider-state calls, and reading uploads back through ``/_mock/`` (the bytes'
  sha256 must be what was acknowledged).

Every upload key is handed out once, so the sha256 acknowledged for a key is the one that must be stored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The epx client's request shapes, as the tests use them (run from the project root, so `tests` imports).
from tests.support.epx import EPX_HEADERS, OCTET_STREAM, run_request

from .soak_client import Call, Reply

RUN_STATUSES = {"NOT_STARTED", "QUEUED", "RUNNING", "DONE", "ERROR"}
# The mock's default limits (PACTMOCK_MAX_JSON_BYTES, PACTMOCK_MAX_UPLOAD_BYTES); the soak runs with them.
MAX_JSON_BYTES = 1_048_576
MAX_UPLOAD_BYTES = 10_485_760
# Runs go to the latest jobs only, so a job's run list (and GET /runs) stays small however long the soak.
RECENT_JOBS = 32
UPLOAD_SIZES = (512, 4096, 16384, 65536)
UPLOAD_SIZE_WEIGHTS = (4, 3, 2, 1)
UNKNOWN_JOB = 987_654_321
ODD_PATHS = (
    "/../../etc/passwd",
    "/%00",
    "/%ff%fe/x",
    "/runs/%2e%2e/jobs",
    "/jobs/register/extra",
    "/s3/uploads/1/..%2f..%2fetc",
    "/_mock/../runs",
    "/runs;drop%20table%20runs",
    "/%C3%BC/%E2%82%AC",
    "/" + "a" * 6000,
    "/_mock/nothing-here",
    # 30,000 segments: each must cost the router no more than one short path does.
    "/a" * 30_000,
)


@dataclass
class Ledger:
    """What the mock acknowledged (a 200 answer), and so must be in its database at the end."""

    jobs: set[int] = field(default_factory=set)
    runs: dict[int, int] = field(default_factory=dict)  # run id -> job id
    runs_of_job: dict[int, list[int]] = field(default_factory=dict)
    uploads: dict[tuple[int, str], str] = field(default_factory=dict)  # (job, key) -> sha256
    uploads_of_job: dict[int, dict[str, str]] = field(default_factory=dict)  # job -> key -> sha256
    recent_uploads: deque[tuple[int, str, str]] = field(default_factory=lambda: deque(maxlen=256))
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_JOBS))
    pending_uploads: deque[tuple[int, str, str]] = field(default_factory=lambda: deque(maxlen=256))
    keys_handed_out: set[tuple[int, str]] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_job(self, job_id: int) -> None:
        with self.lock:
            if job_id in self.jobs:
                self.duplicates.append(f"job id {job_id} acknowledged twice")
            self.jobs.add(job_id)
            self.runs_of_job[job_id] = []
            self.recent.append(job_id)

    def add_runs(self, job_id: int, run_ids: list[int]) -> None:
        with self.lock:
            for run_id in run_ids:
                if run_id in self.runs:
                    self.duplicates.append(f"run id {run_id} acknowledged twice")
                self.runs[run_id] = job_id
            self.runs_of_job[job_id].extend(run_ids)

    def recent_job(self, rng: random.Random) -> int | None:
        with self.lock:
            return rng.choice(self.recent) if self.recent else None

    def runs_acknowledged(self, job_id: int) -> set[int]:
        with self.lock:
            return set(self.runs_of_job.get(job_id, ()))

    def new_upload_key(self, job_id: int) -> tuple[str, dict[str, Any]] | None:
        """A key of this job never handed out before, and the POST /jobs body that asks for its URL."""
        with self.lock:
            choices: list[tuple[str, str, int | None]] = [("job", kind, None) for kind in ("input", "config")]
            # A run's config, as epx uploads it (it never uploads a run's input).
            choices += [("run", "config", run) for run in self.runs_of_job.get(job_id, ())]
            for context, kind, run_id in choices:
                key = f"job_{kind}" if run_id is None else f"run_{run_id}_{kind}"
                if (job_id, key) not in self.keys_handed_out:
                    self.keys_handed_out.add((job_id, key))
                    body: dict[str, Any] = {"jobId": job_id, "context": context, "type": kind}
                    if run_id is not None:
                        body["runId"] = run_id
                    return key, body
        return None

    def add_upload(self, job_id: int, key: str, sha: str) -> None:
        with self.lock:
            self.uploads[(job_id, key)] = sha
            self.uploads_of_job.setdefault(job_id, {})[key] = sha
            self.recent_uploads.append((job_id, key, sha))

    def acknowledged_upload(self, rng: random.Random) -> tuple[int, str, str] | None:
        """One of the latest acknowledged uploads: (job, key, sha256)."""
        with self.lock:
            return rng.choice(self.recent_uploads) if self.recent_uploads else None

    def uploads_acknowledged(self, job_id: int) -> dict[str, str]:
        with self.lock:
            return dict(self.uploads_of_job.get(job_id, {}))


def _problem(reply: Reply, want: int) -> str | None:
    """Why ``reply`` is not the ``want`` answer (a problem+json one for a 4xx), or None."""
    if reply.status != want:
        return f"expected {want}, got {reply.status}: {reply.body[:160]!r}"
    if want >= 400 and reply.content_type != "application/problem+json":
        return f"{want} without application/problem+json (Content-Type {reply.content_type!r})"
    return None


def _listed(reply: Reply, name: str) -> tuple[list[Any] | None, str | None]:
    """The list a 200 answer holds under ``name``; or None and what is wrong with the answer."""
    found = _json(reply)
    items = found.get(name) if isinstance(found, dict) else None
    if reply.status != 200 or not isinstance(items, list):
        return None, _problem(reply, 200) or f"no {name} in {reply.body[:160]!r}"
    return items, None


def _json(reply: Reply) -> Any:
    try:
        return json.loads(reply.body)
    except ValueError:
        return None


def _expect_status(want: int) -> Callable[[Reply], str | None]:
    return lambda reply: _problem(reply, want)


def _expect_4xx(reply: Reply) -> str | None:
    if not 400 <= reply.status < 500:
        return f"expected a 4xx, got {reply.status}: {reply.body[:160]!r}"
    return _problem(reply, reply.status)


Op = Callable[[Ledger, random.Random], Call]


# --- good ---------------------------------------------------------------------------------------------------


def register_job(ledger: Ledger, rng: random.Random) -> Call:
    tags = rng.sample(["info_job", "soak", "fred", "nightly"], rng.randint(0, 2))

    def expect(reply: Reply) -> str | None:
        found = _json(reply)
        if reply.status != 200 or not isinstance(found, dict) or not isinstance(found.get("id"), int):
            return _problem(reply, 200) or f"no job id in {reply.body[:160]!r}"
        ledger.add_job(found["id"])
        return None if found.get("tags") == tags else f"tags {tags} came back as {found.get('tags')}"

    body = json.dumps({"tags": tags}).encode()
    return Call("register job", "good", "POST", "/jobs/register", EPX_HEADERS, expect, body)


def submit_runs(ledger: Ledger, rng: random.Random) -> Call:
    job_id = ledger.recent_job(rng)
    if job_id is None:
        return register_job(ledger, rng)
    count = rng.randint(1, 3)
    body = {"runRequests": [run_request(job_id, workingDir=f"/home/epx/soak/{i}") for i in range(count)]}

    def expect(reply: Reply) -> str | None:
        found = _json(reply)
        responses = found.get("runResponses") if isinstance(found, dict) else None
        if reply.status != 200 or not isinstance(responses, list):
            return _problem(reply, 200) or f"no runResponses in {reply.body[:160]!r}"
        run_ids = [r["runId"] for r in responses if isinstance(r, dict) and isinstance(r.get("runId"), int)]
        if len(run_ids) != count or any(r.get("jobId") != job_id for r in responses):
            return f"{count} runs of job {job_id} submitted, answer: {reply.body[:200]!r}"
        ledger.add_runs(job_id, run_ids)
        return None

    return Call("submit runs", "good", "POST", "/runs", EPX_HEADERS, expect, json.dumps(body).encode())


def list_runs(ledger: Ledger, rng: random.Random) -> Call:
    job_id = ledger.recent_job(rng)
    if job_id is None:
        return register_job(ledger, rng)
    # Taken before sending: every run acknowledged by now must be listed.
    must_list = ledger.runs_acknowledged(job_id)

    def expect(reply: Reply) -> str | None:
        runs, wrong = _listed(reply, "runs")
        if runs is None:
            return wrong
        listed = {run.get("id") for run in runs if isinstance(run, dict)}
        missing = must_list - listed
        if missing:
            return f"GET /runs?job_id={job_id} lacks acknowledged runs {sorted(missing)[:5]}"
        odd = {run.get("status") for run in runs if isinstance(run, dict)} - RUN_STATUSES
        return f"unknown run statuses {odd}" if odd else None

    return Call("list runs", "good", "GET", f"/runs?job_id={job_id}", EPX_HEADERS, expect)


def ask_upload_url(ledger: Ledger, rng: random.Random) -> Call:
    job_id = ledger.recent_job(rng)
    wanted = None if job_id is None else ledger.new_upload_key(job_id)
    if job_id is None or wanted is None:
        return submit_runs(ledger, rng)  # more runs, more keys
    key, body = wanted

    def expect(reply: Reply) -> str | None:
        found = _json(reply)
        url = found.get("url") if isinstance(found, dict) else None
        if reply.status != 200 or not isinstance(url, str):
            return _problem(reply, 200) or f"no url in {reply.body[:160]!r}"
        path = f"/s3/uploads/{job_id}/{key}"
        if not url.endswith(path):
            return f"upload URL {url!r} is not for {path}"
        ledger.pending_uploads.append((job_id, key, path))
        return None

    return Call("ask upload URL", "good", "POST", "/jobs", EPX_HEADERS, expect, json.dumps(body).encode())


def upload(ledger: Ledger, rng: random.Random) -> Call:
    try:
        job_id, key, path = ledger.pending_uploads.popleft()
    except IndexError:
        return ask_upload_url(ledger, rng)
    data = os.urandom(rng.choices(UPLOAD_SIZES, UPLOAD_SIZE_WEIGHTS)[0])
    sha = hashlib.sha256(data).hexdigest()

    def expect(reply: Reply) -> str | None:
        wrong = _problem(reply, 200)
        if wrong:
            return wrong
        if reply.headers.get("x-pactmock-sha256") != sha:
            return f"PUT {path}: x-pactmock-sha256 {reply.headers.get('x-pactmock-sha256')} is not {sha}"
        ledger.add_upload(job_id, key, sha)
        return None

    return Call("upload", "good", "PUT", path, OCTET_STREAM, expect, data)


# --- bad ----------------------------------------------------------------------------------------------------


def malformed_json(ledger: Ledger, rng: random.Random) -> Call:
    whole = json.dumps({"runRequests": [run_request(123)]})
    body = whole[: rng.randint(1, len(whole) - 1)].encode()
    return Call("malformed JSON", "bad", "POST", "/runs", EPX_HEADERS, _expect_status(400), body)


def missing_token(ledger: Ledger, rng: random.Random) -> Call:
    headers = {k: v for k, v in EPX_HEADERS.items() if k != "Offline-Token"}
    return Call("no token", "bad", "POST", "/jobs/register", headers, _expect_status(401), b'{"tags": []}')


def missing_header(ledger: Ledger, rng: random.Random) -> Call:
    headers = {k: v for k, v in EPX_HEADERS.items() if k != "fredcli-version"}
    return Call("no fredcli-version", "bad", "POST", "/jobs/register", headers, _expect_status(400), b'{"tags": []}')


def wrong_types(ledger: Ledger, rng: random.Random) -> Call:
    job = ledger.recent_job(rng) or 123
    bodies: list[tuple[str, Any]] = [
        ("/runs", {"runRequests": [run_request("abc")]}),
        ("/runs", {"runRequests": [run_request(job, fredArgs="-p main.fred")]}),
        ("/runs", {"runRequests": {"jobId": job}}),
        ("/runs", [run_request(job)]),
        ("/jobs/register", {"tags": "not-a-list"}),
        ("/jobs", {"jobId": str(job), "context": "job", "type": "input"}),
        ("/jobs", {"jobId": job, "context": "job", "type": "sideways"}),
    ]
    target, body = rng.choice(bodies)
    return Call("wrong types", "bad", "POST", target, EPX_HEADERS, _expect_status(400), json.dumps(body).encode())


def bad_query(ledger: Ledger, rng: random.Random) -> Call:
    target = rng.choice(["/runs?job_id=abc", "/runs?job_id=", "/runs?job_id=1e3", "/runs"])
    return Call("bad query", "bad", "GET", target, EPX_HEADERS, _expect_status(400))


def unknown_job(ledger: Ledger, rng: random.Random) -> Call:
    if rng.random() < 0.5:
        return Call("unknown job", "bad", "GET", f"/runs?job_id={UNKNOWN_JOB}", EPX_HEADERS, _expect_status(404))
    body = json.dumps({"runRequests": [run_request(UNKNOWN_JOB)]}).encode()
    return Call("unknown job", "bad", "POST", "/runs", EPX_HEADERS, _expect_status(404), body)


def odd_path(ledger: Ledger, rng: random.Random) -> Call:
    method = rng.choice(["GET", "GET", "POST", "DELETE"])
    return Call("odd path", "bad", method, rng.choice(ODD_PATHS), EPX_HEADERS, _expect_4xx, b"{}")


def bad_upload(ledger: Ledger, rng: random.Random) -> Call:
    job = ledger.recent_job(rng) or 123
    target = rng.choice([f"/s3/uploads/{job}/not_a_key", f"/s3/uploads/{UNKNOWN_JOB}/job_input"])
    return Call("bad upload", "bad", "PUT", target, OCTET_STREAM, _expect_status(404), b"payload")


def huge_json(ledger: Ledger, rng: random.Random) -> Call:
    body = json.dumps({"tags": ["x" * (MAX_JSON_BYTES + 1024)]}).encode()
    return Call("JSON over the limit", "bad", "POST", "/jobs/register", EPX_HEADERS, _expect_status(413), body, True)


def huge_upload(ledger: Ledger, rng: random.Random) -> Call:
    # Aimed at a key already holding acknowledged bytes: the refused body must not replace them (the final
    # check compares every stored sha256 with the acknowledged one).
    stored = ledger.acknowledged_upload(rng)
    target = f"/s3/uploads/{stored[0]}/{stored[1]}" if stored else f"/s3/uploads/{UNKNOWN_JOB}/job_input"
    body = b"\0" * (MAX_UPLOAD_BYTES + 1)
    return Call("upload over the limit", "bad", "PUT", target, OCTET_STREAM, _expect_status(413), body, True)


# --- control plane ------------------------------------------------------------------------------------------


def health(ledger: Ledger, rng: random.Random) -> Call:
    def expect(reply: Reply) -> str | None:
        found = _json(reply)
        database = found.get("database", {}) if isinstance(found, dict) else {}
        if reply.status != 200 or database.get("status") != "up":
            return f"health: {reply.status} {reply.body[:160]!r}"
        return None

    def down(reply: Reply) -> bool:
        found = _json(reply)
        return reply.status == 503 and isinstance(found, dict) and found.get("database", {}).get("status") == "down"

    return Call("health", "control", "GET", "/health", {}, expect, outage_ok=down)


def index(ledger: Ledger, rng: random.Random) -> Call:
    def expect(reply: Reply) -> str | None:
        return _problem(reply, 200) or (None if isinstance(_json(reply), dict) else "GET / is not a JSON object")

    return Call("index", "control", "GET", "/", {}, expect)


def provider_state(ledger: Ledger, rng: random.Random) -> Call:
    # A state the mock does not know: recorded, steering nothing, creating no data; set up and torn down.
    body = json.dumps({"state": "soak: control plane", "action": rng.choice(["setup", "teardown"])}).encode()
    headers = {"Content-Type": "application/json"}
    return Call("provider state", "control", "POST", "/_mock/provider-states", headers, _expect_status(200), body)


def read_upload_back(ledger: Ledger, rng: random.Random) -> Call:
    stored = ledger.acknowledged_upload(rng)
    if stored is None:
        return health(ledger, rng)
    job_id, key, sha = stored

    def expect(reply: Reply) -> str | None:
        wrong = _problem(reply, 200)
        if wrong:
            return wrong
        actual = hashlib.sha256(reply.body).hexdigest()
        return None if actual == sha else f"upload {job_id}/{key} reads back as sha256 {actual}, not {sha}"

    return Call("read upload back", "control", "GET", f"/_mock/jobs/{job_id}/uploads/{key}", {}, expect)


def list_uploads(ledger: Ledger, rng: random.Random) -> Call:
    stored = ledger.acknowledged_upload(rng)
    if stored is None:
        return index(ledger, rng)
    job_id = stored[0]
    must_list = ledger.uploads_acknowledged(job_id)

    def expect(reply: Reply) -> str | None:
        uploads, wrong = _listed(reply, "uploads")
        if uploads is None:
            return wrong
        listed = {u.get("key"): u.get("sha256") for u in uploads if isinstance(u, dict)}
        changed = {key for key, sha in must_list.items() if listed.get(key) != sha}
        return f"uploads of job {job_id}: {sorted(changed)} missing or changed" if changed else None

    return Call("list uploads", "control", "GET", f"/_mock/jobs/{job_id}/uploads", {}, expect)


# Per 1,000 requests. Writes stay near a third of the load, what the closed-loop POST /runs benchmark
# (bench/RESULTS.md, scenario c.) showed PostgreSQL taking with room to spare at the default rate.
MIX: tuple[tuple[Op, float], ...] = (
    (register_job, 100),
    (submit_runs, 140),
    (list_runs, 150),
    (ask_upload_url, 60),
    (upload, 60),
    (malformed_json, 50),
    (missing_token, 30),
    (missing_header, 30),
    (wrong_types, 50),
    (bad_query, 20),
    (unknown_job, 20),
    (odd_path, 40),
    (bad_upload, 20),
    (huge_json, 8),
    (huge_upload, 2),
    (health, 60),
    (index, 30),
    (provider_state, 30),
    (read_upload_back, 60),
    (list_uploads, 40),
)


_OPERATIONS = [op for op, _ in MIX]
_CUMULATIVE = list(itertools.accumulate(weight for _, weight in MIX))


def pick(ledger: Ledger, rng: random.Random) -> Call:
    """The next request of the mix."""
    return rng.choices(_OPERATIONS, cum_weights=_CUMULATIVE)[0](ledger, rng)
