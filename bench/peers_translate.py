"""One pact, every peer's own format: WireMock mappings, a Mockoon environment, raw requests for wrk.

`bench.peers` feeds each peer the same interactions. A pact interaction is first reduced to an `Exchange` (the
request a consumer sends, as its example values, and the answer the contract gives); the peers' files are written
from that. What each peer is told to check:

* WireMock: method, path (``urlPath``; ``urlPathPattern`` where the pact has a path regex), every query parameter
  and header (``matches`` the pact's regex where it has one, else ``equalTo`` the example), and a JSON body
  ``equalToJson`` the example (stricter than type rules: cheaper for WireMock, never dearer).
* Mockoon: method and path (a route per interaction; a regex path becomes a route parameter), and rules on the
  headers and query parameters (``regex`` where the pact has one, else ``equals``); the body is not checked
  (Mockoon's body rules compare one JSON path at a time: one rule per leaf would be a different benchmark).

Pact versions: V4 bodies (``{"content": ...}``) and V2/V3 bodies (the JSON itself); query as a mapping of lists
(V3/V4) or a string (V2).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

NO_BODY: Any = object()


@dataclass(frozen=True)
class Exchange:
    """One interaction as example request and answer."""

    method: str
    path: str
    path_regex: str | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    header_regex: dict[str, str]  # the pact's regex rule of a header, by the header's name as the pact spells it
    query_regex: dict[str, str]
    body: Any  # the request's JSON (or text), NO_BODY when there is none
    status: int
    response_headers: dict[str, str]
    response_body: Any  # NO_BODY when there is none

    @property
    def target(self) -> str:
        """The request target: path and query string, as a client sends it."""
        return self.path + ("?" + urlencode(self.query, doseq=True) if self.query else "")

    def body_bytes(self) -> bytes:
        if self.body is NO_BODY:
            return b""
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()

    def response_bytes(self) -> bytes:
        if self.response_body is NO_BODY:
            return b""
        if isinstance(self.response_body, str):
            return self.response_body.encode()
        return json.dumps(self.response_body, separators=(",", ":")).encode()


def _body(part: Mapping[str, Any]) -> Any:
    if "body" not in part or part["body"] is None:
        return NO_BODY
    body = part["body"]
    if isinstance(body, dict) and "content" in body and ("contentType" in body or "encoded" in body):
        return body["content"]  # V4
    return body


def _headers(part: Mapping[str, Any]) -> dict[str, str]:
    headers = part.get("headers") or {}
    return {name: ", ".join(v) if isinstance(v, list) else str(v) for name, v in headers.items()}


def _query(request: Mapping[str, Any]) -> dict[str, list[str]]:
    query = request.get("query") or {}
    if isinstance(query, str):
        return parse_qs(query, keep_blank_values=True)
    return {name: list(v) if isinstance(v, list) else [str(v)] for name, v in query.items()}


def _regex(rule: Any) -> str | None:
    """The regex of a V3/V4 rule (``{"matchers": [...]}``) or a V2 one (``{"match": "regex", ...}``), if any."""
    if not isinstance(rule, dict):
        return None
    for matcher in rule.get("matchers", [rule]):
        if isinstance(matcher, dict) and matcher.get("match") == "regex" and matcher.get("regex"):
            return str(matcher["regex"])
    return None


def _path_regex(request: Mapping[str, Any]) -> str | None:
    return _regex((request.get("matchingRules") or {}).get("path"))


def _regexes(request: Mapping[str, Any], part: str) -> dict[str, str]:
    rules = (request.get("matchingRules") or {}).get(part) or {}
    found = {name: _regex(rule) for name, rule in rules.items()} if isinstance(rules, dict) else {}
    return {name: regex for name, regex in found.items() if regex}


def exchange(interaction: Mapping[str, Any]) -> Exchange:
    request, response = interaction["request"], interaction["response"]
    return Exchange(
        method=str(request["method"]).upper(),
        path=request["path"],
        path_regex=_path_regex(request),
        query=_query(request),
        headers=_headers(request),
        header_regex=_regexes(request, "header"),
        query_regex=_regexes(request, "query"),
        body=_body(request),
        status=int(response.get("status", 200)),
        response_headers=_headers(response),
        response_body=_body(response),
    )


def exchanges(interactions: Iterable[Mapping[str, Any]]) -> Iterator[Exchange]:
    return (exchange(i) for i in interactions if i.get("type", "Synchronous/HTTP") == "Synchronous/HTTP")


# --- WireMock ------------------------------------------------------------------------------------------------------


def _wiremock_value(example: str, regex: str | None) -> dict[str, str]:
    return {"matches": regex} if regex else {"equalTo": example}


def wiremock_mapping(ex: Exchange) -> dict[str, Any]:
    request: dict[str, Any] = {"method": ex.method}
    if ex.path_regex:
        request["urlPathPattern"] = ex.path_regex.removeprefix("^").removesuffix("$")
    else:
        request["urlPath"] = ex.path
    if ex.query:
        request["queryParameters"] = {
            name: _wiremock_value(values[0], ex.query_regex.get(name))
            if len(values) == 1
            else {"hasExactly": [{"equalTo": v} for v in values]}
            for name, values in ex.query.items()
        }
    if ex.headers:
        request["headers"] = {
            name: _wiremock_value(value, ex.header_regex.get(name)) for name, value in ex.headers.items()
        }
    if ex.body is not NO_BODY:
        if isinstance(ex.body, str):
            request["bodyPatterns"] = [{"equalTo": ex.body}]
        else:
            request["bodyPatterns"] = [{"equalToJson": ex.body}]
    response: dict[str, Any] = {"status": ex.status}
    if ex.response_headers:
        response["headers"] = dict(ex.response_headers)
    if ex.response_body is not NO_BODY:
        response["body"] = ex.response_bytes().decode()
    return {"request": request, "response": response}


def write_wiremock_mappings(exs: Iterable[Exchange], out: Any) -> int:
    """Write ``{"mappings": [...]}`` to the open text file ``out`` one mapping at a time; how many were written."""
    out.write('{"mappings": [\n')
    count = 0
    for ex in exs:
        if count:
            out.write(",\n")
        out.write(json.dumps(wiremock_mapping(ex), separators=(",", ":")))
        count += 1
    out.write("\n]}\n")
    return count


# --- Mockoon -------------------------------------------------------------------------------------------------------


def _mockoon_endpoint(ex: Exchange, index: int) -> str:
    path = ex.path.lstrip("/")
    if ex.path_regex:
        # The synthetic pacts' regex paths vary their last segment only: a route parameter stands for it.
        head, _, _ = path.rpartition("/")
        return f"{head}/:p{index}"
    return path


def _mockoon_response(
    status: int, headers: Mapping[str, str], body: str, rules: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "body": body,
        "latency": 0,
        "statusCode": status,
        "label": "",
        "headers": [{"key": k, "value": v} for k, v in headers.items()],
        "bodyType": "INLINE",
        "filePath": "",
        "databucketID": "",
        "sendFileAsBody": False,
        "rules": rules,
        "rulesOperator": "AND",
        "disableTemplating": True,
        "fallbackTo404": True,
        "default": True,
        "crudKey": "id",
        "callbacks": [],
    }


def _mockoon_route(
    method: str, endpoint: str, responses: list[dict[str, Any]], kind: str = "http", mode: str | None = None
) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "type": kind,
        "documentation": "",
        "method": method.lower(),
        "endpoint": endpoint,
        "responses": responses,
        "responseMode": mode,
        "streamingMode": None,
        "streamingInterval": 0,
    }


def _mockoon_rule(target: str, name: str, example: str, regex: str | None) -> dict[str, Any]:
    operator, value = ("regex", regex) if regex else ("equals", example)
    return {"target": target, "modifier": name, "value": value, "invert": False, "operator": operator}


def mockoon_stub_route(ex: Exchange, index: int) -> dict[str, Any]:
    rules = [
        _mockoon_rule("header", name, value, ex.header_regex.get(name))
        for name, value in ex.headers.items()
        if name.lower() != "content-type"  # Mockoon compares the whole value; clients may add a charset
    ]
    rules += [_mockoon_rule("query", name, values[0], ex.query_regex.get(name)) for name, values in ex.query.items()]
    body = ex.response_bytes().decode()
    response = _mockoon_response(ex.status, ex.response_headers, body, rules)
    # FALLBACK: a request that breaks a rule is passed on to the next route (in the end a 404), not answered.
    return _mockoon_route(ex.method, _mockoon_endpoint(ex, index), [response], mode="FALLBACK" if rules else None)


def mockoon_crud_route(endpoint: str, bucket_uuid: str) -> dict[str, Any]:
    """A CRUD route over the data bucket: POST adds the body to the bucket's array (in memory) and answers it."""
    response = _mockoon_response(200, {"Content-Type": "application/json"}, "", [])
    response["databucketID"] = bucket_uuid
    response["bodyType"] = "DATABUCKET"
    return _mockoon_route("", endpoint, [response], kind="crud")


def mockoon_environment(routes: list[dict[str, Any]], port: int, buckets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "lastMigration": 33,
        "name": "pactmock peers",
        "endpointPrefix": "",
        "latency": 0,
        "port": port,
        "hostname": "127.0.0.1",
        "folders": [],
        "routes": routes,
        "rootChildren": [{"type": "route", "uuid": route["uuid"]} for route in routes],
        "proxyMode": False,
        "proxyHost": "",
        "proxyRemovePrefix": False,
        "tlsOptions": {
            "enabled": False,
            "type": "CERT",
            "pfxPath": "",
            "certPath": "",
            "keyPath": "",
            "caPath": "",
            "passphrase": "",
        },
        "cors": False,
        "headers": [],
        "proxyReqHeaders": [],
        "proxyResHeaders": [],
        "data": buckets,
        "callbacks": [],
    }


def mockoon_bucket(name: str) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "id": uuid.uuid4().hex[:4], "name": name, "documentation": "", "value": "[]"}


# --- raw requests, for wrk's random-path script ---------------------------------------------------------------------


def raw_request(ex: Exchange, host: str) -> bytes:
    body = ex.body_bytes()
    lines = [f"{ex.method} {ex.target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in ex.headers.items()]
    if body or ex.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
