"""Each call epx 1.2.2 makes, as a pact interaction: one function per call, adding it to a pact.

The requests are what the client puts on the wire (epx's `core/cloud/auth.py` builds the headers,
`job/fred_job.py` and `core/utils/s3_helpers.py` make the calls): every Epistemix call carries the four
`api_headers()`, also a GET, PATCH or DELETE with no body; storage calls carry none of them and no
Content-Type. Provider state names are the ones the pactmock
Epistemix provider implements.
"""

from __future__ import annotations

import warnings
from typing import Any

from pact import Pact, match

from .epx_archive import results_archive
from .epx_contract import (
    DATE,
    JOB_ID,
    LISTING_END_DATE,
    MISSING_JOB_ID,
    RESULTS_PATH,
    RESULTS_PATH_REGEX,
    RUN_ID,
    START_DATE,
    TAG,
    USER_ID,
    api_headers,
    id_in_query,
    id_of,
    listed_job,
    problem,
    results_url,
    run_info,
    run_request,
    upload_path,
    upload_path_regex,
    upload_url,
)

JOB_EXISTS = "job 123 exists"
RUN_RUNNING = "job 123 has run 978"
RUN_DONE = "job 123 has run 978 that is done"
RUN_FAILED = "job 123 has run 978 that failed"
JOB_OF_ANOTHER_USER = "job 123 belongs to another user"
JOB_MISSING = "job 999 does not exist"

JSON = "application/json"

# The error answers may be problem+json (pactmock's) or plain JSON: the client does not look.
ERROR_CONTENT_TYPE = match.regex("application/problem+json", regex=r"^application/(problem\+)?json(;.*)?$")


def register_job(pact: Pact) -> None:
    """`execute()` first registers the job with its tags and learns its id."""
    (
        pact.upon_receiving("a request to register an info job")
        .with_request("POST", "/jobs/register")
        .with_headers(api_headers(with_body=True))
        .with_body({"tags": match.each_like(match.str(TAG))}, JSON)
        .will_respond_with(200)
        .with_body({"id": id_of(JOB_ID), "userId": id_of(USER_ID), "tags": match.each_like(match.str(TAG))}, JSON)
    )


def upload_url_of_job_file(pact: Pact, kind: str, state: str) -> None:
    """`execute()` asks for a URL to upload the job's input archive (`kind` input) or job.json (config)."""
    (
        pact.upon_receiving(f"a request for the upload URL of the job {kind}")
        .given(state)
        .with_request("POST", "/jobs")
        .with_headers(api_headers(with_body=True))
        .with_body({"jobId": id_of(JOB_ID), "context": "job", "type": kind}, JSON)
        .will_respond_with(200)
        .with_body({"url": upload_url(f"job_{kind}")}, JSON)
    )


def upload_url_of_run_config(pact: Pact) -> None:
    """`execute()` asks for a URL to upload each run's run.json, once the run has an id."""
    (
        pact.upon_receiving("a request for the upload URL of the config of run 978")
        .given(RUN_RUNNING)
        .with_request("POST", "/jobs")
        .with_headers(api_headers(with_body=True))
        .with_body({"jobId": id_of(JOB_ID), "context": "run", "type": "config", "runId": id_of(RUN_ID)}, JSON)
        .will_respond_with(200)
        .with_body({"url": upload_url(f"run_{RUN_ID}_config")}, JSON)
    )


def submit_runs(pact: Pact) -> None:
    """`execute()` submits every run of the job in one request and gets one answer per run, in order."""
    (
        pact.upon_receiving("a request to submit the runs of job 123")
        .given(JOB_EXISTS)
        .with_request("POST", "/runs")
        .with_headers(api_headers(with_body=True))
        .with_body({"runRequests": match.each_like(run_request())}, JSON)
        .will_respond_with(200)
        .with_body(
            {
                "runResponses": match.each_like(
                    {
                        "runId": id_of(RUN_ID),
                        "jobId": id_of(JOB_ID),
                        "status": match.regex("Submitted", regex=r"^(Submitted|Failed)$"),
                        "errors": None,
                        "runRequest": run_request(),
                    }
                )
            },
            JSON,
        )
    )


def runs_of_job(pact: Pact, state: str, status: str) -> None:
    """`job.status`, `job.list_runs()` and `job.stop()` list the runs of the job (`GET /runs?job_id=`)."""
    (
        pact.upon_receiving(f"a request for the runs of job 123 while run 978 is {status}")
        .given(state)
        .with_request("GET", "/runs")
        .with_query_parameter("job_id", id_in_query(JOB_ID))
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body({"runs": match.each_like(run_info(status))}, JSON)
    )


def status_of_run(pact: Pact, state: str, status: str) -> None:
    """A run's status, and `job.results` for each run, ask for that one run (`GET /runs?id=`)."""
    (
        pact.upon_receiving(f"a request for run 978 while it is {status}")
        .given(state)
        .with_request("GET", "/runs")
        .with_query_parameter("id", id_in_query(RUN_ID))
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body({"runs": match.each_like(run_info(status))}, JSON)
    )


def stop_reason(example: str) -> Any:
    """Why a run was or was not stopped: the reasons the client's model allows."""
    return match.regex(example, regex=r"^(Success|NotFound|Forbidden|InternalError)$")


def any_number_of(item: dict[str, Any]) -> Any:
    """A list of items shaped like `item`, possibly empty (the example holds one)."""
    with warnings.catch_warnings():
        # pact-python warns that a minimum below 1 is unusual; 0 is what the API's lists allow.
        warnings.simplefilter("ignore", UserWarning)
        return match.each_like(item, min=0)


def stop_runs(pact: Pact) -> None:
    """`job.stop()` stops the job's runs: their ids, repeated in the query, and no body."""
    (
        pact.upon_receiving("a request to stop run 978")
        .given(RUN_RUNNING)
        .with_request("PATCH", "/runs")
        # A regex on a query parameter holds for each of its values: `?id=978&id=979` matches too. (Wrapping
        # it in each_like makes pact-ffi keep one of the two matchers at random, so the pact would vary.)
        .with_query_parameter("id", id_in_query(RUN_ID))
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body(
            {
                "description": match.str("Stopped 1 run of job 123"),
                # The runs stopped, and those that could not be, each with the reason: either list may be empty.
                "deletedIds": any_number_of({"runId": id_of(RUN_ID), "reason": stop_reason("Success")}),
                "failedIds": any_number_of({"runId": id_of(RUN_ID + 1), "reason": stop_reason("NotFound")}),
            },
            JSON,
        )
    )


def retry_runs(pact: Pact) -> None:
    """`execute(time_out=...)` retries a run it sees in ERROR.

    The client form-encodes the ids (`runRequestIds=978`) under `content-type: application/json`,
    which the pact mock server cannot parse as either, so no body is expected: the header is.
    """
    (
        pact.upon_receiving("a request to retry the failed run 978")
        .given(RUN_FAILED)
        .with_request("POST", "/runs/retry")
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body({"status": match.str("Submitted"), "runRequestIds": match.each_like(id_of(RUN_ID))}, JSON)
    )


def result_urls(pact: Pact) -> None:
    """`job.results` asks where to download the results of the job's finished runs."""
    (
        pact.upon_receiving("a request for the result URLs of job 123")
        .given(RUN_DONE)
        .with_request("GET", "/jobs/results")
        .with_query_parameter("job_id", id_in_query(JOB_ID))
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body({"urls": match.each_like({"run_id": id_of(RUN_ID), "url": results_url()})}, JSON)
    )


def jobs_by_tags(pact: Pact) -> None:
    """`FREDJob.get_jobs_by_tags(...)`: the user's jobs, by tags (repeated) and between two dates."""
    (
        pact.upon_receiving("a request for my jobs tagged info_job in a period")
        .given(JOB_EXISTS)
        .with_request("GET", "/jobs/me")
        .with_query_parameter("tags", match.each_like(TAG))
        .with_query_parameter("startDate", match.regex(START_DATE, regex=DATE))
        .with_query_parameter("endDate", match.regex(LISTING_END_DATE, regex=DATE))
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body({"jobs": match.each_like(listed_job())}, JSON)
    )


def latest_job(pact: Pact) -> None:
    """`FREDJob.get_latest_job(tags)`: one job object, not a list."""
    (
        pact.upon_receiving("a request for my latest job tagged info_job")
        .given(JOB_EXISTS)
        .with_request("GET", "/jobs")
        .with_query_parameter("tags", match.each_like(TAG))
        .with_query_parameter("latest", "true")
        .with_headers(api_headers())
        .will_respond_with(200)
        .with_body(listed_job(), JSON)
    )


def delete_job(pact: Pact) -> None:
    """`job.delete(interactive=False)`: any 2xx is success and the client ignores the body."""
    (
        pact.upon_receiving("a request to delete job 123")
        .given(JOB_EXISTS)
        .with_request("DELETE", match.regex(f"/jobs/{JOB_ID}", regex=r"^/jobs/\d+$"))
        .with_headers(api_headers())
        .will_respond_with(200)
    )


def delete_missing_job(pact: Pact) -> None:
    """Deleting a job that does not exist: 404, which the client turns into its `NotFoundError`."""
    (
        pact.upon_receiving("a request to delete job 999, which does not exist")
        .given(JOB_MISSING)
        .with_request("DELETE", match.regex(f"/jobs/{MISSING_JOB_ID}", regex=r"^/jobs/\d+$"))
        .with_headers(api_headers())
        .will_respond_with(404)
        .with_header("Content-Type", ERROR_CONTENT_TYPE)
        .with_body(problem("job 999 does not exist"))
    )


def runs_of_another_users_job(pact: Pact) -> None:
    """Another user's job: 403, which the client turns into its `UnauthorizedUserError`."""
    (
        pact.upon_receiving("a request for the runs of job 123 of another user")
        .given(JOB_OF_ANOTHER_USER)
        .with_request("GET", "/runs")
        .with_query_parameter("job_id", id_in_query(JOB_ID))
        .with_headers(api_headers())
        .will_respond_with(403)
        .with_header("Content-Type", ERROR_CONTENT_TYPE)
        .with_body(problem("job 123 belongs to another user"))
    )


def storage_upload(pact: Pact, key: str, state: str) -> None:
    """The client PUTs a file to its pre-signed URL: no Content-Type, no auth, and bytes that vary.

    Success is exactly 200 (the client counts 201 or 204 as a failed upload).
    """
    (
        pact.upon_receiving(f"an upload of {key} of job 123")
        .given(state)
        .with_request("PUT", match.regex(upload_path(key), regex=upload_path_regex(key)))
        .will_respond_with(200)
    )


def results_download(pact: Pact) -> None:
    """`job.results` downloads each listed URL with no auth and extracts it as a zip.

    The client is answered with a tiny archive in the layout its readers expect; a provider may answer
    any zip (its bytes are not compared, only that they are a zip).
    """
    (
        pact.upon_receiving("a download of the results of run 978 of job 123")
        .given(RUN_DONE)
        .with_request("GET", match.regex(RESULTS_PATH, regex=RESULTS_PATH_REGEX))
        .will_respond_with(200)
        .with_binary_body(results_archive(), "application/zip")
        .with_matching_rules({"body": {"$": {"matchers": [{"match": "contentType", "value": "application/zip"}]}}})
    )
