"""Epistemix's and S3's routes: each names its hook as a model file names an action's, `module:function`.

The contract judges a request before its route is reached. Each hook (handlers.py, management.py) reads
what it needs from its `HookCall`, calls one domain service, and answers as the contract's example does.
`varies` lists the response fields a hook works out from state (pinned.py warns when a pact pins one).
"""

from __future__ import annotations

from ..registry import route

HANDLERS = "app.providers.epistemix.handlers"
MANAGEMENT = "app.providers.epistemix.management"

# A listed run's request is the one submitted, or a provider state's example run: state either way.
RUN_FIELDS = tuple(
    f"$.runs[*].{name}" for name in ("id", "userId", "status", "podPhase", "createdTs", "request", "epxClientVersion")
)
JOB_FIELDS = ("id", "userId", "created")

BINDINGS = (
    route("Epistemix", "POST", r"/jobs/register", f"{HANDLERS}:register_job", ("$.id", "$.userId")),
    route("Epistemix", "POST", r"/jobs", f"{HANDLERS}:upload_url", ("$.url",)),
    route("Epistemix", "GET", r"/jobs/results", f"{MANAGEMENT}:result_urls", ("$.urls[*].run_id", "$.urls[*].url")),
    route("Epistemix", "GET", r"/jobs/me", f"{MANAGEMENT}:my_jobs", tuple(f"$.jobs[*].{n}" for n in JOB_FIELDS)),
    route("Epistemix", "GET", r"/jobs", f"{MANAGEMENT}:latest_job", tuple(f"$.{n}" for n in JOB_FIELDS)),
    route("Epistemix", "DELETE", r"/jobs/(?P<job_id>[^/]+)", f"{MANAGEMENT}:delete_job", ("$.description",)),
    route("Epistemix", "POST", r"/runs", f"{HANDLERS}:submit_runs", ("$.runResponses[*].runId",)),
    route("Epistemix", "GET", r"/runs", f"{HANDLERS}:list_runs", RUN_FIELDS),
    route("Epistemix", "PATCH", r"/runs", f"{MANAGEMENT}:stop_runs", ("$.description",)),
    route("Epistemix", "POST", r"/runs/retry", f"{MANAGEMENT}:retry_runs"),
    route("S3", "PUT", r"/s3/uploads/(?P<job_id>[^/]+)/(?P<key>[^/]+)", f"{HANDLERS}:put_upload"),
    route("S3", "GET", r"/s3/results/(?P<job_id>[^/]+)/run_(?P<run_id>[^/]+)\.zip", f"{MANAGEMENT}:result_archive"),
)
