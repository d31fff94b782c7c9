"""Providers whose state is declared in a model file or inferred from their pacts: no Python of their own."""
