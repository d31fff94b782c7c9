"""One in-memory model for Pact files of every specification version (V1 to V4).

Whatever version a file was written in, the loader turns it into these
classes, so matching, routing and stub generation never look at raw pact JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from .serve.injection import Injected

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
        """Whether the message has a body at all (a JSON null or an empty body is one)."""
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
    """An HTTP request as the contract expects it, or as a client sent it (then without rules or generators)."""

    method: str = "GET"
    path: str = "/"
    # Query parameters and headers keep every value: both may repeat.
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: Body = field(default_factory=Body)
    rules: Rules = field(default_factory=dict)
    generators: Generators = field(default_factory=dict)
    # What a provider state may set in it (ProviderState generators), when anything: see injection.py.
    injected: Injected | None = None

    def header(self, name: str) -> list[str] | None:
        """Values of a header, looked up case-insensitively; None when the request has none."""
        return find_header(self.headers, name)


@dataclass
class Response:
    """An HTTP response as the contract gives it, or as a provider answered (then without rules or generators)."""

    status: int = 200
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: Body = field(default_factory=Body)
    rules: Rules = field(default_factory=dict)
    generators: Generators = field(default_factory=dict)

    def header(self, name: str) -> list[str] | None:
        """Values of a header, looked up case-insensitively; None when the response has none."""
        return find_header(self.headers, name)


@dataclass(frozen=True)
class ProviderState:
    """A state the provider is put in before an interaction: its name and the parameters it is set up with."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


class CompiledParts(NamedTuple):
    """An interaction's request and response as the engine uses them.

    ``problem`` says why an interaction compiled on first use cannot be served; its
    request and response are then stand-ins (a bare 500; the web layer answers with the problem).
    """

    request: Request
    response: Response
    problem: str | None = None


class InteractionSource(Protocol):
    """Compiles the interactions of a pact too large to hold compiled (see read/index.py)."""

    def compiled(self, interaction: Interaction) -> CompiledParts:
        """The interaction's request and response compiled from the file, or stand-ins naming its problem."""
        ...


class Interaction:
    """One HTTP interaction.

    Routing needs only the method, the path, the path rule and the provider states, and
    those are always held. The request and response (bodies, every matcher) are held too,
    except for the interactions of a pact loaded as an index: those are compiled from the
    file on first use by their ``source`` and kept in its bounded cache.
    """

    __slots__ = (
        "_held",
        "_source",
        "contract",
        "description",
        "kind",
        "method",
        "path",
        "path_expression",
        "path_rule",
        "pending",
        "position",
        "provider_states",
    )

    def __init__(
        self,
        description: str,
        request: Request,
        response: Response,
        provider_states: list[ProviderState] | None = None,
        kind: str = "Synchronous/HTTP",
        pending: bool = False,
        contract: Contract | None = None,
    ) -> None:
        self.description = description
        self.provider_states = provider_states if provider_states is not None else []
        self.kind = kind
        self.pending = pending
        # Back-reference filled in by the loader so an error can name its contract.
        self.contract = contract
        self.method = request.method.upper()
        self.path = request.path
        self.path_rule: RuleList | None = (request.rules.get("path") or {}).get("")
        injected_path = request.injected.path if request.injected is not None else None
        # A path a provider state writes (`/api/hello/${name}`): routed like a path rule's.
        self.path_expression: str | None = injected_path.expression if injected_path is not None else None
        self.position: int | None = None
        self._held: CompiledParts | None = CompiledParts(request, response)
        self._source: InteractionSource | None = None

    @classmethod
    def indexed(
        cls,
        description: str,
        route: tuple[str, str, RuleList | None],
        provider_states: list[ProviderState],
        pending: bool,
        contract: Contract,
        source: InteractionSource | None,
        position: int,
        path_expression: str | None = None,
    ) -> Interaction:
        """An interaction whose request and response ``source`` compiles when first asked for.

        ``route`` is the (method, path, path rule) the router files it under. Without a source it is
        only a placeholder, never handed out, until the loader compiles the interaction whole.
        """
        interaction = cls.__new__(cls)
        interaction.description = description
        interaction.provider_states = provider_states
        interaction.kind = "Synchronous/HTTP"
        interaction.pending = pending
        interaction.contract = contract
        interaction.method, interaction.path, interaction.path_rule = route
        interaction.path_expression = path_expression
        interaction.position = position
        interaction._held = None
        interaction._source = source
        return interaction

    def parts(self) -> CompiledParts:
        """The request and response: those held, or those the source compiles on first use."""
        held = self._held
        if held is not None:
            return held
        assert self._source is not None  # one of the two is always set
        return self._source.compiled(self)

    @property
    def request(self) -> Request:
        """The request as the contract expects it (compiled on first use for an indexed interaction)."""
        return self.parts().request

    @property
    def response(self) -> Response:
        """The response the contract gives (compiled on first use for an indexed interaction)."""
        return self.parts().response

    @property
    def problem(self) -> str | None:
        """Why this interaction cannot be served (found when it was compiled), else None."""
        return self.parts().problem

    @property
    def state_names(self) -> tuple[str, ...]:
        """The names of its provider states, in the pact's order."""
        return tuple(state.name for state in self.provider_states)

    def __repr__(self) -> str:
        return f"Interaction({self.description!r}, {self.method} {self.path})"


@dataclass
class Message:
    """A message (asynchronous or synchronous) interaction: read and listed, never served."""

    description: str
    kind: str
    provider_states: list[ProviderState] = field(default_factory=list)


@dataclass
class Contract:
    """One pact: consumer, provider, specification version (V1 to V4), where it was read from,
    its HTTP interactions and its messages."""

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
        """The mismatch as JSON-ready data, for a problem+json answer: bytes by their count, an absent value as null."""
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
