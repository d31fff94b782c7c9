"""Stateful providers: hand-written handlers bound to contract routes, behind one seam (registry.py).

A provider's handlers see a request as plain data (`Call`) and answer with plain data (`Answer`): no
framework, so they are tested without a server and the web layer alone turns them into HTTP.
"""
