"""Epistemix (the API of the `epx` simulation client) and the S3 bucket its uploads go to."""

from .handlers import BINDINGS

__all__ = ["BINDINGS"]
