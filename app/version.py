"""The installed pactmock's version, from its package metadata: pyproject.toml is the one place it is written."""

from importlib.metadata import version

__version__ = version("pactmock")
