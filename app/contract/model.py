"""One in-memory model for Pact files of every specification version (V1 to V4).

Whatever version a file was written in, the loader turns it into these
classes, so matching, routing and stub generation never look at raw pact JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A matching-rule category ("body", "header", "query", "path", "method", "status")
# maps a path or a name to the list of matchers that apply there. Categories with
# a single value (path, method, status) use the empty string as their only key.
RuleSet = dict[str, "RuleList"]
Rules = dict[str, RuleSet]
# Generators mirror the rules: category -> path or name -> generator definition.
Generators = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class RuleList:
    """The matchers that apply at one place, combined with AND (all) or OR (any)."""

    matchers: tuple[dict[str, Any], ...]
    combine: str = "AND"


class _Missing:
    """Marks a body that is absent, as opposed to one that is JSON null or empty."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass
class Body:
    """A message body.

    ``value`` is the parsed JSON value for JSON bodies, the text for XML, plain
    text and form bodies, ``bytes`` for binary content, ``None`` for an explicit
    JSON null and ``MISSING`` when the message has no body at all.
    """

    value: Any = MISSING
    content_type: str | None = None

    @property
    def present(self) -> bool:
        return self.value is not MISSING


def find_header(headers: dict[str, list[str]], name: str) -> list[str] | None:
    """Values of a header, looked up case-insensitively (HTTP header names are)."""
    lowered = name.lower()
    for key, values in headers.items():
        if key.lower() == lowered:
            return values
    return None


@dataclass
class Request:
    method: str = "GET"
    path: str = "/"
    # Query parameters and headers keep every value: both may repeat.
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: Body = field(default_factory=Body)
    rules: Rules = field(default_factory=dict)
    generators: Generators = field(default_factory=dict)

    def header(self, name: str) -> list[str] | None:
        return find_header(self.headers, name)


@dataclass
class Response:
    status: int = 200
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: Body = field(default_factory=Body)
    rules: Rules = field(default_factory=dict)
    generators: Generators = field(default_factory=dict)

    def header(self, name: str) -> list[str] | None:
        return find_header(self.headers, name)


@dataclass(frozen=True)
class ProviderState:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Interaction:
    description: str
    request: Request
    response: Response
    provider_states: list[ProviderState] = field(default_factory=list)
    kind: str = "Synchronous/HTTP"
    pending: bool = False
    # Back-reference filled in by the loader so an error can name its contract.
    contract: Contract | None = field(default=None, repr=False, compare=False)

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.provider_states)


@dataclass
class Message:
    """A message (asynchronous or synchronous) interaction: read and listed, never served."""

    description: str
    kind: str
    provider_states: list[ProviderState] = field(default_factory=list)


@dataclass
class Contract:
    consumer: str
    provider: str
    spec: str
    source: str
    interactions: list[Interaction] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class Mismatch:
    """One way in which an actual request or response differs from the contract.

    ``part`` is one of method, path, query, header, body, status; ``path`` locates
    the difference inside that part (``$.runRequests[0].jobId`` for a body, the
    header or parameter name otherwise).
    """

    part: str
    path: str
    expected: Any
    actual: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "path": self.path,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
            "message": self.message,
        }


def _jsonable(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value
