"""How a planned fault reaches the client (issue 18 item 6): the entrance's faulted path, kept out of its way.

`decide_and_pull` runs in the pool: the request is judged, its plan drawn, and its handler run unless an error or
reset comes "before" it. `send` runs on the loop: the delay, then a reset (the connection closed with no answer),
an injected-fault problem, or the answer with its body emptied, truncated (fewer bytes than its Content-Length,
then closed), made malformed, or dribbled at so many bytes a second. `journal` records what the client got, with
a `fault` field saying which rules fired and whether the request was applied (its handler ran).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .dispatch import Bound, Stub
from .fault_rules import Plan, RuleSet
from .journal import Journal
from .journal_record import ANSWERED_BY
from .problems import CONTENT_TYPE, problem_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .faults import Faults
    from .front import ContractFront

log = logging.getLogger(__name__)
MALFORMED_TAIL = b"\x00\xff<pactmock: injected malformed body>"
DRIBBLE_TICKS_PER_SECOND = 10


def decide_and_pull(
    faults: Faults,
    rules: RuleSet,
    front: ContractFront,
    outcome: Any,
    environ: WSGIEnvironment,
    pull: Callable[..., Any],
) -> tuple[Plan, Any]:
    """In the pool: the plan, and the reply (None when an error or reset comes before the handler)."""
    if _judged_later(outcome, environ):
        environ["wsgi.input"].seek(0)  # the first, inline look read the body
        outcome = front.decide(environ, inline=False)  # judged now; a handler is not run yet
    verdict = environ.get(ANSWERED_BY)
    interaction = verdict.interaction if isinstance(verdict, Stub | Bound) else None
    contract = interaction.contract if interaction is not None else None
    plan = faults.plan(
        rules,
        environ["REQUEST_METHOD"],
        environ["PATH_INFO"],
        contract.provider if contract is not None else None,
        interaction.description if interaction is not None else None,
    )
    if plan.before and (plan.error or plan.reset):
        return plan, None
    reply = pull(outcome, environ)
    if plan.changes_anything and (reply.rest is not None or reply.file is not None):
        reply.head, reply.rest, reply.file = [whole(reply)], None, None  # reshaped whole, read here, off the loop
    return plan, reply


def _judged_later(outcome: Any, environ: WSGIEnvironment) -> bool:
    """The inline look handed the whole decision to a thread (provider states needed): take it again here."""
    from .front import NeedsThread

    return isinstance(outcome, NeedsThread) and ANSWERED_BY not in environ


def may_match(rules: RuleSet, environ: WSGIEnvironment, outcome: Any) -> bool:
    """Whether any rule could apply, from what is known on the loop (a cheap filter before the pool)."""
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    verdict = environ.get(ANSWERED_BY)
    unknown = _judged_later(outcome, environ)
    for rule in rules.rules:
        if not rule.needs_verdict:
            if rule.matches_route(method, path):
                return True
        elif unknown:
            return True
        elif isinstance(verdict, Stub | Bound):
            contract = verdict.interaction.contract
            provider = contract.provider if contract is not None else None
            if rule.matches(method, path, provider, verdict.interaction.description):
                return True
    return False


def whole(reply: Any) -> bytes:
    """The reply's whole body (a faulted answer is reshaped whole; the rest is pulled here)."""
    if reply.file is not None:
        with open(reply.file, "rb") as opened:
            return opened.read()
    data = b"".join(reply.head)
    if reply.rest is not None:
        data += b"".join(reply.rest)
    return data


def fault_fields(plan: Plan, applied: bool, answered: int | None) -> dict[str, Any]:
    """The journal's `fault` field (and the injected problem's extension members)."""
    fields: dict[str, Any] = {"rules": plan.rules, "applied": applied}
    if answered is not None:
        fields["answeredStatus"] = answered
    if plan.delay_ms:
        fields["delayMs"] = round(plan.delay_ms, 3)
    if plan.reset is not None:
        fields["reset"] = {"rule": plan.reset}
    elif plan.error is not None:
        fields["error"] = {"rule": plan.error[0], "status": plan.error[1]}
    elif plan.body is not None:
        fields["body"] = {"rule": plan.body[0], "kind": plan.body[1]}
    if plan.dribble:
        fields["dribble"] = {"bytesPerSecond": plan.dribble}
    return fields


def shaped(plan: Plan, reply: Any) -> tuple[int, list[tuple[str, str]], bytes, int | None]:
    """The status, headers and body the client gets, and the Content-Length to declare when it differs (truncated)."""
    applied = reply is not None
    if plan.error is not None:
        rule, status = plan.error
        when = (
            "after its handler ran: the request was applied"
            if applied
            else "instead of its handler: nothing was applied"
        )
        detail = f"fault rule {rule} answered {status} {when}"
        body = problem_body("injected-fault", detail, status=status, rule=rule, applied=applied)
        return status, [("content-type", CONTENT_TYPE)], body, None
    if reply is None:
        return 0, [], b"", None  # a reset before the handler: nothing is sent
    data = whole(reply)
    headers = [(k, v) for k, v in reply.headers if k.lower() != "content-length"]
    if plan.body is None:
        return reply.status, headers, data, None
    kind = plan.body[1]
    if kind == "empty":
        return reply.status, headers, b"", None
    if kind == "malformed":
        return reply.status, headers, data[: len(data) // 2] + MALFORMED_TAIL, None
    sent = data[: len(data) // 2] if len(data) >= 2 else data or b"{"
    return reply.status, headers, sent, max(len(data), len(sent) + 16)


async def send(
    proto: Any, scope: Any, plan: Plan, status: int, headers: list[tuple[str, str]], body: bytes, declared: int | None
) -> None:
    """On the loop: the answer as the plan shapes it (the delay is waited by the caller)."""
    if plan.reset is not None:
        if not cut_connection(scope.client, scope.server.rpartition(":")[2]):
            log.warning("faults: the connection of %s was not found; it is answered instead", scope.client)
            proto.response_bytes(status, headers, body)
        return
    if declared is None and not plan.dribble:
        proto.response_bytes(status, headers, body)
        return
    length = declared if declared is not None else len(body)
    transport = proto.response_stream(status, [*headers, ("content-length", str(length))])
    step = max(1, (plan.dribble or len(body)) // DRIBBLE_TICKS_PER_SECOND) if plan.dribble else max(1, len(body))
    for start in range(0, len(body), step):
        await transport.send_bytes(body[start : start + step])
        if plan.dribble:
            await asyncio.sleep(step / plan.dribble)


def journal(
    journal: Journal,
    environ: WSGIEnvironment,
    cgi: Mapping[str, str],
    body: bytes,
    status: int,
    answer: bytes,
    arrived_ns: int,
    fault: dict[str, Any],
) -> None:
    """One record of a faulted request: what the client got (status 0: no answer, the connection was closed)."""
    journal.record(environ, cgi, body, status, [answer], arrived_ns, fault=fault)


def cut_connection(client: str, server_port: str) -> bool:
    """Close the client's connection without an answer (RSGI has no call for it): find its socket among this
    process's descriptors by its two ends and shut it down; the server's late answer then goes nowhere."""
    host, _, port = client.rpartition(":")
    peer = (host.strip("[]"), int(port))
    for name in _descriptors():
        try:
            sock = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue
        try:
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                continue
            if (sock.getpeername()[:2], str(sock.getsockname()[1])) == (peer, server_port):
                sock.shutdown(socket.SHUT_RDWR)
                return True
        except OSError:
            pass
        finally:
            sock.close()
    return False


def _descriptors() -> list[str]:
    for folder in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return os.listdir(folder)
    return []
