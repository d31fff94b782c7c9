"""A TCP proxy between the mock and PostgreSQL that the soak can cut: a database outage on demand.

It runs as its own process (``python -m bench.soak_proxy --upstream HOST:PORT``) so forwarding the database
traffic never competes with the soak's client threads for one interpreter lock. It prints ``listening PORT``
once, then obeys one command per line on stdin, answering each with one line:

* ``cut``: reset every open connection (RST, as a crashed server looks to its clients) and reset each new
  one as soon as it is accepted, until ``restore``; answers ``cut N`` with N the connections reset;
* ``restore``: forward new connections again; answers ``restored``.

End of stdin ends the proxy. One thread, one ``selectors`` loop over non-blocking sockets.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import socket
import struct
import sys
from collections.abc import Sequence

_CHUNK = 65536


class _Side:
    """One socket of a forwarded pair, with what is still to be written to it."""

    __slots__ = ("peer", "pending", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.peer: _Side | None = None
        self.pending = bytearray()


class CuttableProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.selector = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port: int = self.listener.getsockname()[1]
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.sides: set[_Side] = set()
        self.cut_off = False

    def serve(self, commands: int) -> None:
        """Forward until ``commands`` (a readable file descriptor) reaches its end."""
        self.selector.register(commands, selectors.EVENT_READ, "command")
        lines = b""
        while True:
            for key, events in self.selector.select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "command":
                    chunk = _read(commands)
                    if not chunk:
                        self.cut()
                        return
                    lines += chunk
                    while b"\n" in lines:
                        line, lines = lines.split(b"\n", 1)
                        _answer(self.obey(line.decode().strip()))
                else:
                    self._move(key.data, events)

    def obey(self, command: str) -> str:
        if command == "cut":
            return f"cut {self.cut()}"
        if command == "restore":
            self.cut_off = False
            return "restored"
        return f"unknown command {command!r}"

    def cut(self) -> int:
        self.cut_off = True
        sides, self.sides = self.sides, set()
        for side in sides:
            self._forget(side)
            _reset(side.sock)
        return len(sides) // 2

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        if self.cut_off:
            _reset(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        near, far = _Side(client), _Side(server)
        near.peer, far.peer = far, near
        for side in (near, far):
            side.sock.setblocking(False)
            self.sides.add(side)
            self.selector.register(side.sock, selectors.EVENT_READ, side)

    def _move(self, side: _Side, events: int) -> None:
        peer = side.peer
        assert peer is not None
        try:
            if events & selectors.EVENT_WRITE:
                del side.pending[: _send_some(side.sock, side.pending)]
            if events & selectors.EVENT_READ:
                data = side.sock.recv(_CHUNK)
                if not data:
                    raise ConnectionResetError
                # What the peer cannot take now waits, and this side is not read until it has gone.
                peer.pending += data[_send_some(peer.sock, data) :]
        except BlockingIOError:
            pass
        except (OSError, ValueError):
            self._close_pair(side)
            return
        self._watch(side)
        self._watch(peer)

    def _watch(self, side: _Side) -> None:
        """Read a side while its peer has nothing waiting; write to it while it has."""
        peer = side.peer
        assert peer is not None
        wanted = (0 if peer.pending else selectors.EVENT_READ) | (selectors.EVENT_WRITE if side.pending else 0)
        try:
            current = self.selector.get_key(side.sock).events
        except KeyError:
            current = 0
        if wanted == current:
            return
        if not wanted:
            self.selector.unregister(side.sock)
        elif not current:
            self.selector.register(side.sock, wanted, side)
        else:
            self.selector.modify(side.sock, wanted, side)

    def _close_pair(self, side: _Side) -> None:
        for each in (side, side.peer):
            if each is not None and each in self.sides:
                self.sides.discard(each)
                self._forget(each)
                with contextlib.suppress(OSError):
                    each.sock.close()

    def _forget(self, side: _Side) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(side.sock)


def _send_some(sock: socket.socket, data: bytes | bytearray) -> int:
    try:
        return sock.send(data)
    except BlockingIOError:
        return 0


def _reset(sock: socket.socket) -> None:
    # Linger 0 makes close() send RST: the mock sees its connections die at once, not a polite FIN.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""


def _answer(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, metavar="HOST:PORT", help="where PostgreSQL listens")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    proxy = CuttableProxy((host or "127.0.0.1", int(port)))
    _answer(f"listening {proxy.port}")
    proxy.serve(sys.stdin.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
