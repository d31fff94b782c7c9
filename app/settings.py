"""Every knob of the mock, in one object: `Settings.from_env()` is the only reader of the environment.

`Settings` holds what a user sets (environment variables, the README's table); `Tuning` holds the
constants measured or chosen for this mock, in one place with the reason for each value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value is None or value <= 0:
        raise SettingsError(f"{name} must be a positive whole number, not {env.get(name)!r}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, not {raw!r}")
    return value


# The journal's bounds: its files hold at most two of these records per worker, each at most this body.
MAX_JOURNAL_SIZE = 1_000_000
MAX_JOURNAL_BODY_BYTES = 1024 * 1024


def _within(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _int(env, name, default)
    if value is None or not low <= value <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high:,}, not {env.get(name)!r}")
    return value


def database_url(raw: str) -> str:
    """The URL with the driver pactmock ships: psycopg2 (SQLAlchemy 2.1 would otherwise pick psycopg 3).

    Settings.from_env applies it to DATABASE_URL, so every user of `Settings.database_url` (the store, the
    migrations, the CLI) gets a URL SQLAlchemy can open; a user may write `postgres://` or `postgresql://`.
    """
    for prefix in ("postgresql://", "postgres://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg2://" + raw[len(prefix) :]
    return raw


# Every variable Settings.from_env reads; the compose-file test checks its wiring against this list.
ENVIRONMENT_VARIABLES = (
    "FLASK_HOST",
    "FLASK_PORT",
    "CORS_ORIGINS",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_OVERFLOW",
    "DATABASE_POOL_TIMEOUT",
    "PACT_DIR",
    "PACTMOCK_SEED",
    "PACTMOCK_PUBLIC_URL",
    "PACTMOCK_USER_ID",
    "PACTMOCK_RUN_NOT_STARTED_SECONDS",
    "PACTMOCK_RUN_QUEUED_SECONDS",
    "PACTMOCK_RUN_RUNNING_SECONDS",
    "PACTMOCK_RUN_OUTCOME",
    "PACTMOCK_MAX_JSON_BYTES",
    "PACTMOCK_MAX_UPLOAD_BYTES",
    "MOCK_ADMIN_TOKEN",
    "PACTMOCK_CONTROL_CORS_ORIGINS",
    "PACTMOCK_REPLAY_PROVIDERS",
    "PACTMOCK_INFER_STATE",
    "PACTMOCK_BODY_TIMEOUT_SECONDS",
    "PACTMOCK_IDLE_TIMEOUT_SECONDS",
    "PACTMOCK_BACKLOG",
    "PACTMOCK_MAX_CONNECTIONS",
    "PACTMOCK_MAX_JOB_UPLOAD_BYTES",
    "PACTMOCK_MAX_TOTAL_UPLOAD_BYTES",
    "PACTMOCK_MAX_LISTED_RUNS",
    "PACTMOCK_MAX_BODY_BYTES_IN_FLIGHT",
    "PACTMOCK_THREADS",
    "PACTMOCK_JOURNAL_SIZE",
    "PACTMOCK_JOURNAL_BODY_BYTES",
    "PACTMOCK_FAULTS_FILE",
)


class SettingsError(ValueError):
    """A setting has a value the mock cannot use; the message names it."""


@dataclass(frozen=True)
class Tuning:
    """Constants chosen for this mock rather than set by its users; each says why it has its value."""

    # A connection attempt to PostgreSQL may take this long before the request gets a 503 instead of hanging.
    connect_timeout_seconds: int = 5
    # SQLite waits this long for another writer's lock before giving up: writers queue, they do not fail.
    sqlite_busy_seconds: int = 30
    # Any wait for PostgreSQL's answer: far longer than any query takes even behind the id counter under
    # load, so a request meeting a silent database ends within two of these (pre-ping, one reconnect).
    wait_bound_seconds: float = 5.0
    # A worker still loading the app ignores SIGTERM; granian kills it after this, so a stop never hangs
    # (in-flight requests get the same time to finish).
    workers_kill_timeout_seconds: int = 10
    # A worker that died is replaced this soon (granian's 3.5 s is long; the other workers serve meanwhile).
    respawn_interval_seconds: float = 0.5
    # From this many HTTP interactions a pact is indexed and compiled on first use: below it compiling whole
    # takes well under a second and reports a broken interaction before the first request.
    compile_lazily_from: int = 2000
    # Prepared answers kept at most; past it the store starts again (a contract may have 100,000 interactions).
    max_prepared: int = 10_000
    # A client told to come back (Retry-After on a database that cannot be reached, a busy worker) waits this
    # long: the pool or the database is usually back within seconds, and a shorter wait only adds load.
    retry_after_seconds: int = 2
    # A spooled answer file unused for this long is deleted when the next is written: the server opens a
    # file as soon as it starts the answer, so an older one is in use by nobody still waiting for it.
    spool_keep_seconds: int = 600
    # An upload is read back from the store this many bytes at a time: a few round trips, bounded memory.
    download_chunk_bytes: int = 256 * 1024
    # Answers up to this size are sent whole in one write; a larger one is streamed chunk by chunk.
    whole_answer_bytes: int = 256 * 1024
    # Answers larger than this skip the drift check: it costs time in proportion to the body, and small
    # answers exercise the same code.
    drift_check_max_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Settings:
    """Every setting of the mock; `from_env` reads them, the rest of the app is handed this object."""

    host: str = "0.0.0.0"
    port: int = 5000
    cors_origins: tuple[str, ...] = ("*",)
    database_url: str = "sqlite:///pactmock.sqlite3"
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: int = 30
    pact_dir: str = "pacts"
    # Seeds every generator so stub responses are reproducible; None = fresh random values.
    generator_seed: int | None = None
    mock_server_url: str | None = None
    # The user every job belongs to (the contract's example); the mock has no accounts.
    user_id: int = 456
    # How long a submitted run spends in each step before the next; see docs/run-lifecycle.md.
    run_not_started_seconds: float = 1.0
    run_queued_seconds: float = 1.0
    # Long enough for a user to call job.stop(), which epx allows only while a job is RUNNING.
    run_running_seconds: float = 10.0
    run_outcome: str = "DONE"
    # Larger bodies get 413: uploads (binary bodies) may be bigger than everything else.
    max_json_bytes: int = 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    # When set, /_mock/ calls must carry it; when unset, only loopback clients may call /_mock/.
    admin_token: str | None = field(default=None, repr=False)
    # Web origins that may call /_mock/ from a browser; none by default (a page on this machine must not
    # read uploads or set states just because its browser is a loopback client).
    control_cors_origins: tuple[str, ...] = ()
    # Providers served from their contracts' examples alone, though a handler could keep their state.
    replay_providers: tuple[str, ...] = ()
    # Providers without a model file whose state is inferred from their pacts ("*": every one); others are stubs.
    infer_state: tuple[str, ...] = ()
    # A request body must arrive whole within this; else 408 (a slow peer costs a coroutine, never a thread).
    body_timeout_seconds: float = 20.0
    # A connection with no request in progress (keep-alive or headers not yet complete) is closed after this.
    idle_timeout_seconds: float = 15.0
    # Connections the kernel queues before the server accepts them.
    backlog: int = 4096
    # Connections each worker process holds open at once; past it new ones wait in the backlog.
    max_connections: int = 8192
    # Bytes of uploads kept per job, and in all: past either, an upload is refused (507) and nothing is lost.
    max_job_upload_bytes: int = 256 * 1024 * 1024
    max_total_upload_bytes: int = 2 * 1024 * 1024 * 1024
    # GET /runs lists a job's most recent runs up to this many (X-Total-Count says how many there are).
    max_listed_runs: int = 5000
    # Bytes of request bodies each worker holds at once (still arriving, or being answered); past it 503.
    max_body_bytes_in_flight: int = 256 * 1024 * 1024
    # Threads per worker process for database work (`pactmock serve --threads`); `serve` hands the value
    # to granian's workers in this variable, since each worker builds the app from the environment. Four:
    # run submissions waiting at once share one write (store/group_commit.py, store/run_batches_postgresql.py),
    # and 4 threads beat 2 and 8 on both backends (bench/RESULTS.md, "Run submissions grouped on PostgreSQL").
    threads: int = 4
    # The request journal (GET /_mock/journal) keeps the last this many requests of the server; 0 turns it off.
    journal_size: int = 1000
    # Each journaled request body is kept up to this many bytes (the record says how large it was).
    journal_body_bytes: int = 4096
    # Fault rules (JSON or YAML) installed when the server starts; none by default (faults are off).
    faults_file: str | None = None
    # Isolated sessions (X-Pactmock-Session) the mock holds at once; past it a new one is refused (507).
    max_sessions: int = 256
    tuning: Tuning = field(default_factory=Tuning)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in `env` (default: the process environment); SettingsError names a bad value."""
        env = os.environ if env is None else env
        outcome = env.get("PACTMOCK_RUN_OUTCOME", "DONE").strip().upper()
        if outcome not in ("DONE", "ERROR"):
            raise SettingsError(f"PACTMOCK_RUN_OUTCOME must be DONE or ERROR, not {outcome!r}")
        origins = tuple(o.strip() for o in env.get("CORS_ORIGINS", "*").split(",") if o.strip()) or ("*",)
        return cls(
            host=env.get("FLASK_HOST", "0.0.0.0"),
            port=_int(env, "FLASK_PORT", 5000) or 5000,
            cors_origins=origins,
            database_url=database_url(env.get("DATABASE_URL") or "sqlite:///pactmock.sqlite3"),
            pool_size=_int(env, "DATABASE_POOL_SIZE", 5) or 5,
            max_overflow=_int(env, "DATABASE_MAX_OVERFLOW", 10) or 0,
            pool_timeout=_int(env, "DATABASE_POOL_TIMEOUT", 30) or 30,
            pact_dir=env.get("PACT_DIR", "pacts"),
            generator_seed=_int(env, "PACTMOCK_SEED", None),
            mock_server_url=env.get("PACTMOCK_PUBLIC_URL") or None,
            user_id=_int(env, "PACTMOCK_USER_ID", 456) or 456,
            run_not_started_seconds=_seconds(env, "PACTMOCK_RUN_NOT_STARTED_SECONDS", 1.0),
            run_queued_seconds=_seconds(env, "PACTMOCK_RUN_QUEUED_SECONDS", 1.0),
            run_running_seconds=_seconds(env, "PACTMOCK_RUN_RUNNING_SECONDS", 10.0),
            run_outcome=outcome,
            max_json_bytes=_positive(env, "PACTMOCK_MAX_JSON_BYTES", 1024 * 1024),
            max_upload_bytes=_positive(env, "PACTMOCK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            admin_token=env.get("MOCK_ADMIN_TOKEN") or None,
            control_cors_origins=tuple(
                o.strip() for o in env.get("PACTMOCK_CONTROL_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            replay_providers=tuple(p.strip() for p in env.get("PACTMOCK_REPLAY_PROVIDERS", "").split(",") if p.strip()),
            infer_state=tuple(p.strip() for p in env.get("PACTMOCK_INFER_STATE", "").split(",") if p.strip()),
            body_timeout_seconds=_seconds(env, "PACTMOCK_BODY_TIMEOUT_SECONDS", 20.0) or 20.0,
            idle_timeout_seconds=_seconds(env, "PACTMOCK_IDLE_TIMEOUT_SECONDS", 15.0) or 15.0,
            backlog=_positive(env, "PACTMOCK_BACKLOG", 4096),
            max_connections=_positive(env, "PACTMOCK_MAX_CONNECTIONS", 8192),
            max_job_upload_bytes=_positive(env, "PACTMOCK_MAX_JOB_UPLOAD_BYTES", 256 * 1024 * 1024),
            max_total_upload_bytes=_positive(env, "PACTMOCK_MAX_TOTAL_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024),
            max_listed_runs=_positive(env, "PACTMOCK_MAX_LISTED_RUNS", 5000),
            max_body_bytes_in_flight=_positive(env, "PACTMOCK_MAX_BODY_BYTES_IN_FLIGHT", 256 * 1024 * 1024),
            threads=_positive(env, "PACTMOCK_THREADS", 4),
            journal_size=_within(env, "PACTMOCK_JOURNAL_SIZE", 1000, 0, MAX_JOURNAL_SIZE),
            journal_body_bytes=_within(env, "PACTMOCK_JOURNAL_BODY_BYTES", 4096, 0, MAX_JOURNAL_BODY_BYTES),
            faults_file=env.get("PACTMOCK_FAULTS_FILE") or None,
            max_sessions=_within(env, "PACTMOCK_MAX_SESSIONS", 256, 1, 10_000),
        )
