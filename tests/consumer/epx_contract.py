"""The example values and matchers of the `epx` pacts: what the client sends and what it is answered.

Everything here is written once and shared by the interactions of every recording session, so that an
interaction recorded by two sessions is the same interaction and merges cleanly into one pact file.
Examples are the values the pactmock provider states create (job 123 of user 456, run 978); matchers
cover what varies between runs of the client (its working directory, its random seeds, the dates a
user gives it) and what a stateful provider may vary (ids, timestamps, statuses).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pact import match

CONSUMER = "epx"
EPISTEMIX = "Epistemix"
S3 = "S3"

JOB_ID = 123
RUN_ID = 978
USER_ID = 456
MISSING_JOB_ID = 999
TAG = "info_job"

# The token as config.json holds it (the client prepends "Bearer "): base64 of {"user_id": 456},
# unpadded, so the pactmock provider reads user 456 from it, the user its provider states create jobs for.
TOKEN = base64.b64encode(json.dumps({"user_id": USER_ID}).encode()).decode().rstrip("=")
FREDCLI_VERSION = "0.4.0"  # epx 1.2.2 sends its API version here, not its own version
USER_AGENT = "epx_client_1.2.2"

# The S3 pact's mock server listens on this fixed port, below Linux's ephemeral range, so the storage
# URLs the Epistemix pact answers with point at it and are the same in the pact on every run.
S3_MOCK_PORT = 29517
S3_BASE = f"http://127.0.0.1:{S3_MOCK_PORT}"

ID = r"^\d+$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
RUN_STATUS = r"^(NOT_STARTED|QUEUED|RUNNING|ERROR|DONE)$"
URL_ORIGIN = r"^https?://[^\s/?#]+(/[^\s?#]*)?"  # any origin, and any path prefix the storage may add

# The storage keys the client uploads to (for job 123 and run 978), each with the regex of its kind.
UPLOAD_KEYS = {
    "job_input": r"job_input",
    "job_config": r"job_config",
    f"run_{RUN_ID}_config": r"run_\d+_config",
}
RESULTS_PATH = f"/s3/results/{JOB_ID}/run_{RUN_ID}.zip"
RESULTS_PATH_REGEX = r"^/s3/results/\d+/run_\d+\.zip$"

START_DATE = "2024-01-01"
END_DATE = "2024-01-03"
# The listing asks up to a date far ahead, so the job of the provider state is listed whenever it was made.
LISTING_END_DATE = "2099-12-31"
MODEL_FILE = "model.fred"
LOCATION = "Loving_County_TX"
POPULATION = "US_2010.v5"


def upload_path(key: str) -> str:
    """The storage path the client PUTs the file named `key` of job 123 to."""
    return f"/s3/uploads/{JOB_ID}/{key}"


def upload_path_regex(key: str) -> str:
    """The shape of the storage path for a file of kind `key`, whatever the job and run ids."""
    return rf"^/s3/uploads/\d+/{UPLOAD_KEYS[key]}$"


def upload_url(key: str) -> Any:
    """The pre-signed upload URL the API answers for file `key`: any origin, the storage path shape."""
    return match.regex(S3_BASE + upload_path(key), regex=URL_ORIGIN + upload_path_regex(key)[1:])


def results_url() -> Any:
    """The download URL the API lists for the results of run 978."""
    return match.regex(S3_BASE + RESULTS_PATH, regex=URL_ORIGIN + RESULTS_PATH_REGEX[1:])


def api_headers(*, with_body: bool = False) -> dict[str, Any]:
    """The headers epx 1.2.2 sends on every Epistemix call, body or not, and nothing more.

    A request with a body declares its content type through the body (`with_body(..., JSON)`), which
    writes the Content-Type header into the pact: naming it here too would make it two headers, and the
    verifier would send both.
    """
    headers = {
        "Offline-Token": match.regex(f"Bearer {TOKEN}", regex=r"^Bearer \S+$"),
        "fredcli-version": match.regex(FREDCLI_VERSION, regex=r"^\d+(\.\d+)*$"),
        "user-agent": match.regex(USER_AGENT, regex=r"^epx_client_.+$"),
    }
    return headers if with_body else {**headers, "content-type": "application/json"}


def id_of(example: int) -> Any:
    """An id: any integer, `example` in the pact."""
    return match.int(example)


def id_in_query(example: int) -> Any:
    """An id as a query parameter value: digits."""
    return match.regex(str(example), regex=ID)


def fred_arg(flag: str, value: Any) -> dict[str, Any]:
    """One command-line argument the client passes to FRED."""
    return {"flag": flag, "value": value}


def run_request() -> dict[str, Any]:
    """One run as the client submits it (and as the API echoes it), for a config with a synthetic population.

    The seed is drawn at random by the client on every call and the working directory is its cwd; the
    dates, the location and any model parameters (`-o k=v`) come from the user's config, so the arguments
    are matched by shape: a list of flag and value.
    """
    return {
        "jobId": id_of(JOB_ID),
        "workingDir": match.str("/home/epx/work"),
        "size": match.str("hot"),
        "fredVersion": match.str("latest"),
        "population": {"version": match.str(POPULATION), "locations": match.each_like(LOCATION)},
        "fredArgs": match.each_like(fred_arg(match.str("-p"), match.str("main.fred"))),
        "fredFiles": match.each_like(MODEL_FILE),
    }


def run_info(status: str) -> dict[str, Any]:
    """Run 978 as `GET /runs` lists it, in `status` (any run status matches)."""
    return {
        "id": id_of(RUN_ID),
        "jobId": id_of(JOB_ID),
        "userId": id_of(USER_ID),
        "createdTs": match.regex("2024-01-01T00:00:00Z", regex=DATETIME),
        "request": run_request(),
        "podPhase": match.regex("Running", regex=r"^(Pending|Running|Succeeded|Failed|Unknown)$"),
        "containerStatus": None,
        "status": match.regex(status, regex=RUN_STATUS),
        "userDeleted": match.bool(False),
        "epxClientVersion": match.str("1.2.2"),
    }


def listed_job() -> dict[str, Any]:
    """Job 123 as the listings show it."""
    return {
        "id": id_of(JOB_ID),
        "userId": id_of(USER_ID),
        "tags": match.each_like(match.str(TAG)),
        "created": match.regex("2024-01-01T00:00:00Z", regex=DATETIME),
    }


def problem(description: str) -> dict[str, Any]:
    """An error answer: the client reads only `description` (any other member is ignored)."""
    return {"description": match.str(description)}
