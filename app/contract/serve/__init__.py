"""Serving: the router, response generators, text from regexes and Java date patterns, provider-state injection."""
