"""What the entrance reads of a request before anything else: its headers in one pass, the server address."""

from __future__ import annotations

import functools
from collections.abc import Iterable


class Head:
    """What the entrance needs from the request headers, read in one pass: granian's header map is in Rust,
    and each look-up into it costs as much as this whole loop over a dozen headers."""

    __slots__ = ("cgi", "chunked", "content_length", "hosts")

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.hosts = 0
        self.content_length: str | None = None
        self.chunked = False
        cgi: dict[str, str] = {}
        for name, value in items:
            if name == "host":
                self.hosts += 1
            elif name == "content-length":
                self.content_length = value
            elif name == "transfer-encoding":
                self.chunked = True
                continue  # the body is received whole: the app sees it with its length
            key = _cgi_name(name)
            cgi[key] = f"{cgi[key]},{value}" if key in cgi else value
        self.cgi = cgi


@functools.lru_cache(maxsize=1024)
def _cgi_name(header: str) -> str:
    key = header.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key


@functools.lru_cache(maxsize=64)
def host_and_port(address: str) -> tuple[str, str]:
    """granian gives addresses as "host:port" ("[::1]:port" for IPv6)."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port
