"""Epistemix (the API of the `epx` simulation client) and the S3 bucket its uploads go to."""

from .routes import BINDINGS

# The providers whose routes are written here: the generic engine never takes them over.
PROVIDERS = frozenset(binding.provider for binding in BINDINGS)

__all__ = ["BINDINGS", "PROVIDERS"]
