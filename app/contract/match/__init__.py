"""Judging a request or response against an interaction's rules: one module per message part, and the matchers."""
