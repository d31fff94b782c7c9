"""Epistemix (the API of the `epx` simulation client) and the S3 bucket its uploads go to."""

from .handlers import BINDINGS

# The providers whose handlers are written here: the generic engine never takes them over.
PROVIDERS = frozenset(binding.provider for binding in BINDINGS)

__all__ = ["BINDINGS", "PROVIDERS"]
