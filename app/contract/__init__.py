"""The Pact engine: load contracts, match requests and responses, route, generate.

Imports neither Flask nor SQLAlchemy, so it can be used (and tested) on its own.
"""

from .match.compare import compare_request, compare_response, match_request, match_response
from .model import Body, Contract, Interaction, Mismatch, Request, Response

__all__ = [
    "Body",
    "Contract",
    "Interaction",
    "Mismatch",
    "Request",
    "Response",
    "compare_request",
    "compare_response",
    "match_request",
    "match_response",
]
