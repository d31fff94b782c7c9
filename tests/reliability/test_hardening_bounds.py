"""Issue 20: what the mock refuses to hold or to serve, against `pactmock serve --workers 2` on a fresh SQLite file
and a fresh PostgreSQL database.

- The control plane (/_mock/) answers no web page: no CORS headers unless PACTMOCK_CONTROL_CORS_ORIGINS lists
  the origin, and a call from an origin not listed is refused (a page open in a browser on this machine is a
  loopback client, and job ids are predictable). Contract routes keep their CORS.
- Bounds on what one client can make the mock hold or send: the runs listing, the upload quotas.
- What one refusal costs the log: a 60 KB query or header value is clipped in its log line.
- Framing the mock does not take: two Host headers, HTTP/2 without TLS, a chunk of 2^64 - 1 bytes, and more
  than 100 headers (granian's own 431, with an empty body).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import requests

from tests.integration.conftest import RunningMock
from tests.support.epx import EPX_HEADERS

from .conftest import FIRST_JOB_ID, OCTET_STREAM, Connection, query, run_request, set_up_state
from .slow_peers import address_of, collect, connect_many, epx_head, exchange, request_head

LISTED_ORIGIN = "https://ci.example"
OTHER_ORIGIN = "https://evil.example"


def test_the_control_plane_refuses_web_pages_from_origins_not_listed_and_contract_routes_keep_cors(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url, PACTMOCK_CONTROL_CORS_ORIGINS=LISTED_ORIGIN)
    set_up_state(mock, f"job {FIRST_JOB_ID} exists")
    uploads = f"{mock.url}/_mock/jobs/{FIRST_JOB_ID}/uploads"

    for refused in (
        requests.get(uploads, headers={"Origin": OTHER_ORIGIN}, timeout=10),
        requests.post(
            mock.url + "/_mock/provider-states",
            json={"state": "job 124 exists", "action": "setup"},
            headers={"Origin": OTHER_ORIGIN},
            timeout=10,
        ),
    ):
        assert refused.status_code == 403, refused.text
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"].endswith("control-plane-cross-origin"), refused.text
        assert "PACTMOCK_CONTROL_CORS_ORIGINS" in refused.json()["detail"]
        assert "Access-Control-Allow-Origin" not in refused.headers
    # The refused state call changed nothing.
    assert [row.id for row in query(database_url, "SELECT id FROM jobs")] == [FIRST_JOB_ID]
    # A browser's preflight gets no permission either.
    preflight = requests.options(
        mock.url + "/_mock/provider-states",
        headers={"Origin": OTHER_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers, preflight.headers

    listed = requests.get(uploads, headers={"Origin": LISTED_ORIGIN}, timeout=10)
    assert listed.status_code == 200, listed.text
    assert listed.headers["Access-Control-Allow-Origin"] == LISTED_ORIGIN
    # A script or the verifier (no Origin) is served, with no CORS headers.
    plain = requests.get(uploads, timeout=10)
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers, plain.headers

    # Contract routes keep CORS_ORIGINS (default "*") for any origin.
    registered = requests.post(
        mock.url + "/jobs/register",
        json={"tags": ["cors"]},
        headers={**EPX_HEADERS, "Origin": OTHER_ORIGIN},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text
    assert registered.headers["Access-Control-Allow-Origin"] == "*"


LISTED_RUNS = 5
SUBMITTED_RUNS = 8
JOB_QUOTA = 100_000
TOTAL_QUOTA = 150_000
UPLOAD = 60_000


def put_upload(connection: Connection, job: int, key: str, data: bytes) -> tuple[int, dict[str, object]]:
    reply = connection.send("PUT", f"/s3/uploads/{job}/{key}", OCTET_STREAM, data)
    is_problem = reply.headers["Content-Type"] == "application/problem+json"
    return reply.status, reply.json() if is_problem else {}


def test_the_runs_listing_and_the_upload_quotas_bound_what_the_mock_holds_and_sends(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(
        database_url,
        PACTMOCK_MAX_LISTED_RUNS=str(LISTED_RUNS),
        PACTMOCK_MAX_JOB_UPLOAD_BYTES=str(JOB_QUOTA),
        PACTMOCK_MAX_TOTAL_UPLOAD_BYTES=str(TOTAL_QUOTA),
    )
    for job in (FIRST_JOB_ID, FIRST_JOB_ID + 1):
        set_up_state(mock, f"job {job} exists")
    connection = Connection(mock.url, timeout=30)

    acknowledged = []
    for number in range(SUBMITTED_RUNS):
        reply = connection.epx("POST", "/runs", {"runRequests": [run_request(FIRST_JOB_ID, f"listed-{number}")]})
        assert reply.status == 200, str(reply)
        acknowledged.append(reply.json()["runResponses"][0]["runId"])
    listing = connection.epx("GET", f"/runs?job_id={FIRST_JOB_ID}")
    assert listing.status == 200, str(listing)
    # The most recent ones, oldest first; the header says how many there are in all.
    assert [run["id"] for run in listing.json()["runs"]] == acknowledged[-LISTED_RUNS:]
    assert listing.headers["X-Total-Count"] == str(SUBMITTED_RUNS)

    first = os.urandom(UPLOAD)
    assert put_upload(connection, FIRST_JOB_ID, "job_input", first)[0] == 200
    # A second upload to the same job would pass the job's quota...
    status, problem = put_upload(connection, FIRST_JOB_ID, "job_config", os.urandom(UPLOAD))
    assert status == 507 and str(problem["type"]).endswith("storage-quota"), problem
    assert "PACTMOCK_MAX_JOB_UPLOAD_BYTES" in str(problem["detail"]), problem
    # ... and one to another job, once that job holds some, the total.
    assert put_upload(connection, FIRST_JOB_ID + 1, "job_input", os.urandom(UPLOAD))[0] == 200
    status, problem = put_upload(connection, FIRST_JOB_ID + 1, "job_config", os.urandom(TOTAL_QUOTA - 2 * UPLOAD + 1))
    assert status == 507 and str(problem["type"]).endswith("storage-quota"), problem
    assert "PACTMOCK_MAX_TOTAL_UPLOAD_BYTES" in str(problem["detail"]), problem
    # Replacing an upload counts its new size, not both.
    assert put_upload(connection, FIRST_JOB_ID, "job_input", first[: UPLOAD // 2] + first)[0] == 200

    # Nothing refused was stored, and what was stored before is whole.
    stored = {(row.job_id, row.key) for row in query(database_url, "SELECT job_id, key FROM uploads")}
    assert stored == {(FIRST_JOB_ID, "job_input"), (FIRST_JOB_ID + 1, "job_input")}
    read = connection.send("GET", f"/_mock/jobs/{FIRST_JOB_ID}/uploads/job_input", {})
    assert read.status == 200 and read.content == first[: UPLOAD // 2] + first
    assert connection.send("GET", f"/_mock/jobs/{FIRST_JOB_ID}/uploads/job_config", {}).status == 404
    connection.close()


BODY_DEADLINE_SECONDS = 3
HTTP2_SETTINGS_FRAME = 0x04


def test_framing_the_mock_does_not_take_is_refused_without_holding_the_server(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url, PACTMOCK_BODY_TIMEOUT_SECONDS=str(BODY_DEADLINE_SECONDS))
    address = address_of(mock.url)
    health = request_head("GET", "/health", {})

    two_hosts = exchange(address, health.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nHost: evil.example\r\n"))
    assert two_hosts.status == 400, str(two_hosts)
    assert two_hosts.headers["content-type"] == "application/problem+json", str(two_hosts)
    assert "Host" in json.loads(two_hosts.body)["detail"]

    # HTTP/2 with prior knowledge, no TLS: a server speaking it would answer with a SETTINGS frame.
    http2 = exchange(address, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    assert not (len(http2.data) >= 9 and http2.data[3] == HTTP2_SETTINGS_FRAME), str(http2)
    assert http2.data == b"" or (http2.status is not None and http2.status >= 400), str(http2)

    # 100 headers in all are served; one more, and granian refuses the request itself: 431, no body, closed.
    extra = {f"X-Extra-{n}": "x" for n in range(99)}
    assert exchange(address, request_head("GET", "/health", extra)).status == 200
    too_many = exchange(address, request_head("GET", "/health", {**extra, "X-One-Too-Many": "x"}))
    assert (too_many.status, too_many.body) == (431, b""), str(too_many)
    assert too_many.headers.get("connection") == "close", str(too_many)

    # A chunk announced at 2^64 - 1 bytes: refused, or cut off at the body deadline, never waited on for good.
    [huge_chunk] = connect_many(address, 1)
    huge_chunk.sendall(
        epx_head("POST", "/jobs/register", **{"Transfer-Encoding": "chunked"}) + b'ffffffffffffffff\r\n{"tags"'
    )
    assert exchange(address, health, 5).status == 200  # meanwhile the server answers others
    [answer] = collect([huge_chunk], BODY_DEADLINE_SECONDS + 10)
    huge_chunk.close()
    assert answer.closed and answer.status in (400, 408, 413), str(answer)
    assert answer.headers.get("content-type") == "application/problem+json", str(answer)
    assert json.loads(answer.body)["status"] == answer.status

    assert exchange(address, health).status == 200


LONG_VALUE = "9." * 30_000  # 60 KB: under granian's 64 KB request line, so the app itself refuses it
LOG_BYTES_PER_REFUSAL = 4096


def test_a_60_kb_path_query_or_header_value_gets_a_problem_and_a_clipped_log_line(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    address = address_of(mock.url)
    log_size = mock.log_path.stat().st_size
    too_long_header = {**EPX_HEADERS, "fredcli-version": LONG_VALUE + "x"}
    # (request, status, problem type, what its log line starts with). The 43b1f4c code logged the path whole:
    # one 60 KB line per request. Query and header values were clipped there already; kept so here.
    refused = [
        (epx_head("GET", f"/{LONG_VALUE}"), 404, "no-interaction", "GET /9.9."),
        (epx_head("GET", f"/runs?job_id={LONG_VALUE}"), 400, "contract-mismatch", "GET /runs refused (400)"),
        (request_head("GET", f"/runs?job_id={FIRST_JOB_ID}", too_long_header), 400, "contract-mismatch", "GET /runs"),
    ]
    for head, status, kind, _ in refused:
        answer = exchange(address, head, 30)
        assert answer.status == status, str(answer)
        assert str(json.loads(answer.body)["type"]).endswith(kind), str(answer)
    log_grown = mock.log_path.stat().st_size - log_size
    print(f"\n{len(refused)} refusals of 60 KB values: the log grew {log_grown} bytes")
    assert 0 < log_grown < LOG_BYTES_PER_REFUSAL * len(refused), mock.log()[-3000:]
    lines = mock.log().splitlines()
    for *_, logged in refused:
        assert any(logged in line for line in lines), mock.log()[-3000:]
