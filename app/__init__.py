"""pactmock: a contract-first Pact provider mock."""

__version__ = "0.1.0"
