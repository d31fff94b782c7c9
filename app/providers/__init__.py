"""Stateful providers: hooks bound to contract routes (registry.py), the seam a model file's hooks use too.

Every route's hook takes a `HookCall` and returns a value or an `Answer` (resources/hooks.py): plain data in
and out, no framework, so hooks are tested without a server and the web layer alone turns them into HTTP.
"""
