"""Synthetic V4 pact files of any size, for benchmarking mock servers against many interactions.

Run from the project root::

    python -m tests.support.synthetic 1000 /tmp/pacts          # writes /tmp/pacts/synthetic-1000.json, prints the probe
    python -m tests.support.synthetic 100000 /tmp/pacts --json  # the probe request as JSON

Every interaction is a ``Synchronous/HTTP`` interaction of the provider ``SyntheticProvider`` (no pactmock
handler is bound to it, so pactmock answers from the contract), shaped like the Epistemix ones: an
``Authorization: Bearer`` header, a client-version and a user-agent header, each with a regex rule; JSON request
bodies with type, integer, min-length and regex rules; JSON responses with rules of their own. Methods cycle
GET, POST, GET, PUT, DELETE; GETs have query parameters with rules; one interaction in five has a provider state.
One in twenty (``REGEX_EVERY``) has a regex path (``/api/v1/<resource>/<i>/items/[0-9]+``); the others have
literal paths, each one distinct, so exactly one interaction answers any request built from them.

The interaction in the middle (``middle(count)``) is always a literal-path POST with a body and no provider
state; ``probe(count)`` is the request that matches it (the contract's own example values), which the
comparison benchmark sends. Generation is deterministic: the same count gives the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROVIDER = "SyntheticProvider"
CONSUMER = "synthetic-consumer"
REGEX_EVERY = 20
STATE_EVERY = 5
METHODS = ("GET", "POST", "GET", "PUT", "DELETE")
RESOURCES = (
    "jobs",
    "runs",
    "uploads",
    "simulations",
    "populations",
    "locations",
    "reports",
    "projects",
    "datasets",
    "users",
)
TOKEN = "Bearer secret-token"
CLIENT_VERSION = "1.2.3"
USER_AGENT = "synthetic_client_1.2.3"
CREATED = "2026-11-21T10:00:00.000Z"


@dataclass(frozen=True)
class Probe:
    """One HTTP request that the contract allows, as a load generator sends it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    description: str = ""


def _rule(*matchers: dict[str, Any]) -> dict[str, Any]:
    return {"combine": "AND", "matchers": list(matchers)}


_TYPE = _rule({"match": "type"})
_INTEGER = _rule({"match": "integer"})
_HEADER_RULES: dict[str, Any] = {
    "Authorization": _rule({"match": "regex", "regex": r"^Bearer \S+$"}),
    "x-client-version": _rule({"match": "regex", "regex": r"^\d+\.\d+\.\d+$"}),
    "user-agent": _rule({"match": "regex", "regex": r"^synthetic_client_.+$"}),
}


def middle(count: int) -> int:
    """The index of the interaction ``probe(count)`` asks for."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return count // 2


def _method(index: int, count: int) -> str:
    return "POST" if index == middle(count) else METHODS[index % len(METHODS)]


def _regex_path(index: int, count: int) -> bool:
    return index != middle(count) and index % REGEX_EVERY == REGEX_EVERY // 2


def _request_body(index: int, resource: str) -> dict[str, Any]:
    return {
        "name": f"{resource[:-1]} {index}",
        "size": "hot" if index % 2 else "cold",
        "count": index % 7 + 1,
        "tags": ["synthetic", resource],
        "owner": {"id": 456, "email": "owner@example.com"},
        "items": [{"key": "workingDir", "value": f"/home/epx/{resource}/{index}"}],
    }


_REQUEST_BODY_RULES: dict[str, Any] = {
    "$.name": _TYPE,
    "$.size": _rule({"match": "regex", "regex": "^(hot|cold)$"}),
    "$.count": _INTEGER,
    "$.tags": _rule({"match": "type", "min": 1}),
    "$.tags[*]": _TYPE,
    "$.owner.id": _INTEGER,
    "$.owner.email": _rule({"match": "regex", "regex": r"^[^@\s]+@[^@\s]+$"}),
    "$.items": _rule({"match": "type", "min": 1}),
    "$.items[*].key": _TYPE,
    "$.items[*].value": _TYPE,
}

_RESPONSE_BODY_RULES: dict[str, Any] = {
    "$.id": _INTEGER,
    "$.userId": _INTEGER,
    "$.name": _TYPE,
    "$.status": _rule({"match": "regex", "regex": "^(Submitted|RUNNING|DONE|ERROR)$"}),
    "$.createdTs": _rule({"match": "regex", "regex": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"}),
    "$.tags": _TYPE,
    "$.links.self": _rule({"match": "regex", "regex": r"^https?://[^\s/]+/api/v1/.+$"}),
    "$.errors": _TYPE,
}


def interaction(index: int, count: int) -> dict[str, Any]:
    """Interaction ``index`` of a pact of ``count`` interactions, as pact_ffi writes it into a V4 file."""
    resource = RESOURCES[index % len(RESOURCES)]
    method = _method(index, count)
    headers: dict[str, list[str]] = {
        "Authorization": [TOKEN],
        "x-client-version": [CLIENT_VERSION],
        "user-agent": [USER_AGENT],
    }
    request_rules: dict[str, Any] = {"header": dict(_HEADER_RULES)}
    if _regex_path(index, count):
        path = f"/api/v1/{resource}/{index}/items/42"
        request_rules["path"] = _rule({"match": "regex", "regex": f"^/api/v1/{resource}/{index}/items/[0-9]+$"})
    elif method == "POST":
        path = f"/api/v1/{resource}/{index}/submit"
    else:
        path = f"/api/v1/{resource}/{index}"
    request: dict[str, Any] = {"method": method, "path": path, "headers": headers}
    if method == "GET":
        request["query"] = {"page": ["1"], "size": ["20"]}
        request_rules["query"] = {
            "page": _rule({"match": "regex", "regex": r"^\d+$"}),
            "size": _rule({"match": "regex", "regex": r"^\d+$"}),
        }
    elif method in ("POST", "PUT"):
        headers["Content-Type"] = ["application/json"]
        request["body"] = {
            "content": _request_body(index, resource),
            "contentType": "application/json",
            "encoded": False,
        }
        request_rules["body"] = dict(_REQUEST_BODY_RULES)
    request["matchingRules"] = request_rules

    response_body = {
        "id": index,
        "userId": 456,
        "name": f"{resource[:-1]} {index}",
        "status": "Submitted" if method == "POST" else "RUNNING",
        "createdTs": CREATED,
        "tags": ["synthetic", resource],
        "links": {"self": f"http://localhost:5000{path}"},
        "errors": None,
    }
    result: dict[str, Any] = {
        "description": f"a {method} request for {resource[:-1]} {index}",
        "pending": False,
        "request": request,
        "response": {
            "status": 200,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": response_body, "contentType": "application/json", "encoded": False},
            "matchingRules": {"body": dict(_RESPONSE_BODY_RULES)},
        },
        "transport": "http",
        "type": "Synchronous/HTTP",
    }
    if index != middle(count) and index % STATE_EVERY == 1:
        result["providerStates"] = [{"name": f"{resource[:-1]} {index} exists"}]
    return result


def probe(count: int) -> Probe:
    """The request that matches the middle interaction of a pact of ``count`` interactions (and only that one)."""
    found = interaction(middle(count), count)
    request = found["request"]
    headers = {name: values[0] for name, values in request["headers"].items()}
    body = json.dumps(request["body"]["content"], separators=(",", ":")).encode() if "body" in request else b""
    return Probe(request["method"], request["path"], headers, body, found["description"])


def pact_path(directory: Path, count: int) -> Path:
    """Where the pact of ``count`` interactions lives inside ``directory``."""
    return directory / f"synthetic-{count}.json"


def write_pact(directory: Path, count: int) -> Path:
    """Write the pact of ``count`` interactions into ``directory`` (streamed: constant memory); return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = pact_path(directory, count)
    head = {"consumer": {"name": CONSUMER}, "provider": {"name": PROVIDER}}
    metadata = {
        "pactSpecification": {"version": "4.0"},
        "generatedBy": {"name": "tests.support.synthetic", "count": count},
    }
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(head)[:-1] + ', "interactions": [\n')
        for index in range(count):
            if index:
                out.write(",\n")
            out.write(json.dumps(interaction(index, count), separators=(",", ":")))
        out.write('\n], "metadata": ' + json.dumps(metadata) + "}\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a synthetic pact and print its probe request."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of interactions")
    parser.add_argument("directory", type=Path, help="where to write synthetic-<count>.json")
    parser.add_argument("--json", action="store_true", help="print the probe request as JSON")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("count must be at least 1")
    path = write_pact(args.directory, args.count)
    request = probe(args.count)
    if args.json:
        print(json.dumps({"pact": str(path), **asdict(request), "body": request.body.decode()}, indent=2))
    else:
        print(f"wrote {path} ({path.stat().st_size:,} bytes, {args.count:,} interactions)")
        print(f"probe: {request.method} {request.path} ({request.description})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
