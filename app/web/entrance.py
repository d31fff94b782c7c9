"""The one entrance granian serves (RSGI): a request is whole before a thread is spent on it.

Under WSGI a worker thread reads the request body itself, so a client that sends its headers and then
trickles the body holds a thread for as long as it likes, and a handful of them stall the server. Here the
body is received on the worker's event loop, where a slow or idle peer costs a coroutine, not a thread, and
within a deadline (408 when it passes). Then:

- an answer that needs no database (a stub, a refusal, a preflight) is worked out on the loop itself: it is
  CPU work that a thread would only add a hand-off to;
- anything that may wait on the database (a domain handler, the control plane, a route where several
  candidates compete by provider state) runs in a small thread pool.

Large answers (an upload read back) go out in chunks, each pulled in the pool as the client takes them.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from granian.rsgi import ProtocolClosed

from ..domain.sessions import InvalidSessionName
from . import fault_answers
from .dispatch import RECEIVED_BODY
from .faults import Faults, signal_for
from .front import HEADER_ITEMS, ContractFront, NeedsThread
from .journal import Journal
from .journal_record import NOT_JOURNALED, request_parts
from .problems import CATALOGUE, CONTENT_TYPE, problem_body
from .receiving import BodyBudget, Deadlines, Receipt
from .replays import Replay, Replays, condition_of
from .request_head import Head, host_and_port
from .session_scope import Runner, runner_for, session_of
from .spool import SpooledFile

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

    from ..settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Reply:
    """A WSGI answer ready to send: status, headers, the body chunks pulled so far and the ``rest`` to pull,
    or the ``file`` that is the whole body; ``close`` is the WSGI result's, called when sending ends."""

    status: int
    headers: list[tuple[str, str]]
    head: list[bytes]  # the chunks already pulled
    rest: Iterator[bytes] | None  # more to pull (in the pool), or None
    close: Any = None
    file: Path | None = None  # the whole body is this file: the server sends it as the client reads


class Refusal(Exception):
    """A request refused before the app sees it; `close` asks the client to open a new connection."""

    def __init__(self, kind: str, detail: str, *, close: bool = False, **extra: Any) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.close, self.extra = kind, detail, close, extra
        self.status = CATALOGUE[kind].status


class Entrance:
    """RSGI application: receive the request whole, then answer it on the loop or in the pool."""

    def __init__(self, wsgi_app: WSGIApplication, front: ContractFront, settings: Settings, threads: int) -> None:
        self.wsgi_app = wsgi_app
        self.front = front
        self.settings = settings
        self.body_limit = max(settings.max_upload_bytes, settings.max_json_bytes)
        # Answers up to this size are sent whole; a larger one is streamed chunk by chunk.
        self.whole_answer_bytes = settings.tuning.whole_answer_bytes
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pactmock")
        self.deadlines = Deadlines(settings.body_timeout_seconds)
        self.budget = BodyBudget(settings.max_body_bytes_in_flight)
        self.journal = Journal.for_server(settings)  # None when PACTMOCK_JOURNAL_SIZE=0
        # --- fault hook (issue 18 item 6): this process's cached rule set, PACTMOCK_FAULTS_FILE installed ---
        self.faults = Faults(front.served.store, settings, signal_for(settings.database_url))
        self.replays = Replays()
        if settings.faults_file:
            self.faults.install_file(settings.faults_file)

    def __rsgi_del__(self, loop: Any) -> None:
        self.pool.shutdown(wait=True)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        await self(scope, proto)

    async def __call__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        receipt = Receipt()
        try:
            await self._answer(scope, proto, receipt)
        finally:
            self.budget.give(receipt.held)

    async def _answer(self, scope: Any, proto: Any, receipt: Receipt) -> None:
        arrived_ns = time.time_ns()
        head = Head(scope.headers.items())
        try:
            self._check_head(head)
            body = await self._receive(head, proto, receipt)
        except Refusal as refusal:
            self._refuse(proto, refusal)
            return
        except ProtocolClosed:
            log.debug("%s %s: the client went away before its body arrived", scope.method, scope.path[:200])
            return
        key = Replays.key(scope.method, scope.path, scope.query_string, head.cgi, body)
        if key is not None and (
            self._replayed(key, head, proto, arrived_ns)
            or (
                key in self.replays.renewing
                and await self.replays.renewed(key)
                and self._replayed(key, head, proto, arrived_ns)
            )
        ):
            return
        with self.replays.renewal(key):
            await self._answer_whole(scope, proto, head, body, key, arrived_ns)

    async def _answer_whole(
        self, scope: Any, proto: Any, head: Head, body: bytes, key: tuple[object, ...] | None, arrived_ns: int
    ) -> None:
        environ = self._environ(scope, head, body)
        loop = asyncio.get_running_loop()
        try:
            # --- session hook (issue 18 item 7): every piece of this request's work runs in its session ---
            run = runner_for(session_of(environ))
        except InvalidSessionName as bad:
            self._refuse(proto, Refusal("invalid-request", str(bad)))
            return
        try:
            outcome = run(self.front.decide, environ)
            # --- fault hook (issue 18 item 6): a request a rule may match takes the faulted path ---
            rules = run(self.faults.current)
            if rules.rules and NOT_JOURNALED not in environ and fault_answers.may_match(rules, environ, outcome):
                await self._faulted(scope, proto, environ, head, body, rules, outcome, arrived_ns, run)
                return
            if isinstance(outcome, NeedsThread):
                reply = await loop.run_in_executor(self.pool, run, _pull, outcome, environ, self.whole_answer_bytes)
            else:
                reply = _pull(outcome, environ, self.whole_answer_bytes)
        except Exception:
            # The app answers its own errors; this is a bug in the mock, never the client's doing.
            log.exception("unexpected error on %s %s", scope.method, scope.path[:300])
            self._refuse(proto, Refusal("internal", "the mock failed; see its log"))
            return
        # --- journal hook (issue 18 item 5): recorded once the answer is ready, before it goes out ---
        parts = None
        if self.journal is not None and NOT_JOURNALED not in environ:
            parts = request_parts(environ, head.cgi, body, reply.status, reply.head, self.journal.body_bytes)
            self.journal.record_known(parts, reply.status, arrived_ns)
        if key is not None and reply.rest is None and reply.file is None and self.front.replayable(environ, outcome):
            holds = condition_of(environ)
            # A handler's answer is a werkzeug response, whose close has nothing to let go of once it is pulled.
            if (reply.close is None or holds is not None) and self.replays.admits(key):
                self.replays.keep(key, Replay(reply.status, reply.headers, b"".join(reply.head), parts, holds))
        await self._send(proto, reply, loop)

    def _replayed(self, key: tuple[object, ...], head: Head, proto: Any, arrived_ns: int) -> bool:
        """Send the kept answer to a request repeated byte for byte (replays.py); False when there is none, or when
        a fault rule may apply: the request then goes the whole way."""
        replay = self.replays.get(key)
        if replay is None or (self.journal is not None and replay.journal_parts is None):
            return False
        try:
            run = runner_for(session_of(cast("WSGIEnvironment", head.cgi)))
        except InvalidSessionName:
            return False
        if run(self.faults.current).rules or (replay.holds is not None and not run(replay.holds)):
            return False
        if self.journal is not None and replay.journal_parts is not None:
            self.journal.record_known(replay.journal_parts, replay.status, arrived_ns)
        try:
            proto.response_bytes(replay.status, replay.headers, replay.body)
        except ProtocolClosed:
            log.debug("the client went away before its answer")
        return True

    async def _faulted(
        self,
        scope: Any,
        proto: Any,
        environ: Any,
        head: Head,
        body: bytes,
        rules: Any,
        outcome: Any,
        arrived_ns: int,
        run: Runner,
    ) -> None:
        """The answer as the fault rules change it (fault_answers.py); journaled as the client gets it."""
        loop = asyncio.get_running_loop()
        pull = functools.partial(_pull, whole_answer_bytes=self.whole_answer_bytes)
        plan, reply = await loop.run_in_executor(
            self.pool, run, fault_answers.decide_and_pull, self.faults, rules, self.front, outcome, environ, pull
        )
        if not plan.changes_anything:
            assert reply is not None  # only an error or reset skips the handler
            if self.journal is not None:
                self.journal.record(environ, head.cgi, body, reply.status, reply.head, arrived_ns)
            await self._send(proto, reply, loop)
            return
        try:
            status, headers, answer, declared = fault_answers.shaped(plan, reply)
        finally:
            if reply is not None and reply.close is not None:
                reply.close()
        if self.journal is not None:
            fields = fault_answers.fault_fields(plan, reply is not None, reply.status if reply is not None else None)
            shown = 0 if plan.reset is not None else status
            fault_answers.journal(self.journal, environ, head.cgi, body, shown, answer, arrived_ns, fields)
        if plan.delay_ms:
            await asyncio.sleep(plan.delay_ms / 1000)
        try:
            await fault_answers.send(proto, scope, plan, status, headers, answer, declared)
        except ProtocolClosed:
            log.debug("the client went away during a faulted answer")

    def _check_head(self, head: Head) -> None:
        if head.hosts > 1:
            raise Refusal("bad-request", "the request has more than one Host header", close=True)
        length = head.content_length
        if length is not None:
            if not length.isdigit():
                raise Refusal("bad-request", "Content-Length is not a number", close=True)
            if int(length) > self.body_limit:
                raise self._too_large()

    async def _receive(self, head: Head, proto: Any, receipt: Receipt) -> bytes:
        """The whole body, within the body deadline, the size limit and the worker's budget for bodies."""
        length = head.content_length
        if length is None and not head.chunked:
            return b""  # HTTP/1.1: no body without one of them
        if length is not None:
            self._hold(receipt, int(length))
        timeout = self.settings.body_timeout_seconds
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("the entrance runs in an asyncio task")  # granian's default task implementation
        self.deadlines.watch(task)
        try:
            if length is not None:
                body: bytes = await proto()  # its size was checked against the limit already
                return body
            return await self._receive_chunked(proto, receipt)
        except asyncio.CancelledError:
            if not self.deadlines.expired(task):
                raise
            raise Refusal(
                "body-timeout",
                f"the request body did not arrive within {timeout:g} s (PACTMOCK_BODY_TIMEOUT_SECONDS)",
                close=True,
            ) from None
        finally:
            self.deadlines.forget(task)

    async def _receive_chunked(self, proto: Any, receipt: Receipt) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            self._hold(receipt, len(chunk))
            if size > self.body_limit:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> Refusal:
        return Refusal(
            "body-too-large",
            f"the body is over {self.body_limit} bytes, the most this mock accepts",
            close=True,
            limit=self.body_limit,
        )

    def _hold(self, receipt: Receipt, size: int) -> None:
        if not self.budget.take(size):
            raise Refusal(
                "bodies-in-flight",
                f"this worker holds {self.budget.held} bytes of request bodies still arriving or being answered; "
                f"{size} more would pass PACTMOCK_MAX_BODY_BYTES_IN_FLIGHT ({self.budget.limit}); retry shortly",
                close=True,
                retry_after=1,
            )
        receipt.held += size

    def _environ(self, scope: Any, head: Head, body: bytes) -> WSGIEnvironment:
        server_name, server_port = host_and_port(scope.server)
        path = scope.path
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # WSGI carries the path's bytes as latin-1 text; granian gives it decoded (invalid UTF-8 as U+FFFD).
            "PATH_INFO": path if path.isascii() else path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            # The client's address changes with every connection (its port): worked out, never remembered.
            "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **head.cgi,
        }
        if body or "CONTENT_LENGTH" in environ:
            environ["CONTENT_LENGTH"] = str(len(body))
        # What judging reads, handed over as received: no stream to read, and a key for repeated requests.
        environ[RECEIVED_BODY] = body
        environ[HEADER_ITEMS] = tuple(head.cgi.items())
        return environ

    @staticmethod
    def _refuse(proto: Any, refusal: Refusal) -> None:
        log.info("refused before the app: %d %s", refusal.status, refusal.detail)
        body = problem_body(refusal.kind, refusal.detail, **refusal.extra)
        headers = [("content-type", CONTENT_TYPE)]
        if "retry_after" in refusal.extra:
            headers.append(("retry-after", str(refusal.extra["retry_after"])))
        if refusal.close:
            headers.append(("connection", "close"))
        proto.response_bytes(refusal.status, headers, body)

    async def _send(self, proto: Any, reply: Reply, loop: asyncio.AbstractEventLoop) -> None:
        try:
            if reply.file is not None:
                proto.response_file(reply.status, reply.headers, str(reply.file))
                return
            if reply.rest is None:
                proto.response_bytes(reply.status, reply.headers, b"".join(reply.head))
                return
            transport = proto.response_stream(reply.status, reply.headers)
            for chunk in reply.head:
                await transport.send_bytes(chunk)
            while True:
                pulled = await loop.run_in_executor(self.pool, _next_chunk, reply.rest)
                if pulled is None:
                    return
                await transport.send_bytes(pulled)
        except ProtocolClosed:
            log.debug("the client went away during a streamed answer")
        finally:
            if reply.close is not None:
                reply.close()


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _pull(outcome: WSGIApplication | NeedsThread, environ: WSGIEnvironment, whole_answer_bytes: int) -> Reply:
    """Call the WSGI answer and take its first chunks (all of them, for a small answer)."""
    app = outcome.run() if isinstance(outcome, NeedsThread) else outcome
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return None

    result: Iterable[bytes] = app(environ, start_response)
    if isinstance(result, SpooledFile) and environ["REQUEST_METHOD"] != "HEAD":
        return Reply(int(started[0][:3]), started[1], [], None, file=result.path)
    if isinstance(result, list) and started:
        return Reply(int(started[0][:3]), started[1], result, None)
    chunks = iter(result)
    head: list[bytes] = []
    size = 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size > whole_answer_bytes:
            break
    else:
        chunks = None  # type: ignore[assignment]
    status, headers = started
    return Reply(int(status[:3]), headers, head, chunks, getattr(result, "close", None))
