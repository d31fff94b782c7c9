"""What the domain refuses; the web layer turns each into a problem+json response."""

from __future__ import annotations


class DomainError(Exception):
    """Base for refusals a client caused."""


class NotFound(DomainError):
    def __init__(self, what: str, ident: object, hint: str = "") -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"{what} {ident} does not exist{hint}")


class Invalid(DomainError):
    """The contract allowed the request, but the mock cannot act on it (for example context "run" without runId)."""


class QuotaExceeded(DomainError):
    """Storing this would pass a bound the mock keeps on what it holds (uploads per job, uploads in all)."""

    def __init__(self, message: str, limit: int) -> None:
        self.limit = limit
        super().__init__(message)
