"""Parallel test workers setting up and tearing down the same provider states at once (the soak found 500s here):
every call is answered 200, and the rows end as the last call left them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from .conftest import Connection, RunningMock, query

THREADS = 8
CALLS_PER_THREAD = 40
STATES = ("job 4242 exists", "job 4243 has run 9191")


def test_concurrent_setups_and_teardowns_of_the_same_states_all_succeed(
    serve: Callable[..., RunningMock], database_url: str
) -> None:
    mock = serve(database_url)
    failures: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        connection = Connection(mock.url)
        try:
            for call in range(CALLS_PER_THREAD):
                name = STATES[(index + call) % len(STATES)]
                action = "teardown" if (index + call) % 3 == 0 else "setup"
                payload = f'{{"state": "{name}", "action": "{action}"}}'.encode()
                reply = connection.send("POST", "/_mock/provider-states", {"Content-Type": "application/json"}, payload)
                if reply.status != 200:
                    with lock:
                        failures.append(str(reply))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [], "\n".join(failures[:10])

    # A final setup of each state leaves exactly its rows, once.
    final = Connection(mock.url)
    for name in STATES:
        reply = final.send(
            "POST", "/_mock/provider-states", {"Content-Type": "application/json"}, f'{{"state": "{name}"}}'.encode()
        )
        assert reply.status == 200, str(reply)
    final.close()
    assert [row[0] for row in query(database_url, "SELECT id FROM jobs WHERE id IN (4242, 4243) ORDER BY id")] == [
        4242,
        4243,
    ]
    assert [tuple(row) for row in query(database_url, "SELECT id, job_id FROM runs WHERE id = 9191")] == [(9191, 4243)]
    names = {row[0] for row in query(database_url, "SELECT name FROM provider_states")}
    assert set(STATES) <= names
