"""What the domain refuses, and what the store reports: the web layer's error table maps each to problem+json."""

from __future__ import annotations


class DomainError(Exception):
    """Base for refusals a client caused."""


class NotFound(DomainError):
    """The request names a job, run or upload that does not exist."""

    def __init__(self, what: str, ident: object, hint: str = "") -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"{what} {ident} does not exist{hint}")


class Forbidden(DomainError):
    """The caller's token names another user than the one the job belongs to."""


class Invalid(DomainError):
    """The contract allowed the request, but the mock cannot act on it (for example context "run" without runId)."""


class UnknownId(DomainError):
    """A provider state names an id no column can hold."""


class IdsExhausted(DomainError):
    """Every id a 64-bit column can hold has been handed out (reachable only through provider states)."""


class QuotaExceeded(DomainError):
    """Storing this would pass a bound the mock keeps on what it holds (uploads per job, uploads in all)."""

    def __init__(self, message: str, limit: int) -> None:
        self.limit = limit
        super().__init__(message)


class WrongState(DomainError):
    """The request asks for something the run's status does not allow now (retrying a run that did not fail)."""


class InvalidTransition(WrongState):
    """An item's state machine does not allow the move asked for from the state it is in."""

    def __init__(self, what: str, current: object, wanted: object, allowed: tuple[str, ...]) -> None:
        self.current = current
        self.allowed = list(allowed)
        can = ", ".join(allowed) if allowed else "none: it is final"
        super().__init__(f"{what} is {current!r} and cannot move to {wanted!r}; from {current!r} it can move to {can}")


class CapacityReached(DomainError):
    """A collection holds as many items as its model allows."""

    def __init__(self, collection: str, limit: int) -> None:
        self.limit = limit
        super().__init__(f"collection {collection!r} holds its limit of {limit} items; remove one first")


class AlreadyExists(DomainError):
    """An item with the id the request gives is already stored."""


class NotAuthenticated(DomainError):
    """The request carries no credential the provider's model accepts."""


class Changed(DomainError):
    """What was being read was replaced meanwhile (an upload written again while it was downloaded)."""


class Conflict(Exception):
    """Another transaction got there first (a duplicate key, a deadlock, a row deleted under us): try again."""


class StoreUnavailable(Exception):
    """The database is down, unreachable or saturated: the client should come back, not give up."""
