"""What the dashboard answers to links and forms it never made: a 4xx page saying why (or the first page for a
pagination parameter that is no number), never a 500; and nothing changes on a refused form."""

from __future__ import annotations

from collections.abc import Callable

import requests

from tests.support.mock_process import RunningMock

Serve = Callable[..., RunningMock]


def test_odd_links_and_forms_are_answered_without_a_server_error(serve_dashboard: Serve) -> None:
    mock = serve_dashboard()
    ui = mock.url + "/_mock/ui"
    pages = {
        "/journal/no-such-record": 404,
        "/data/Nobody/nothing": 404,
        "/data/Workflows/nothing": 404,
        "/journal?status=abc": 400,
        "/journal?path=runs": 400,
        "/data/runs?after=99999999999999999999&job=x": 200,
        "/data/jobs?before=-1&last=2": 200,
        "/data/Workflows/workflows?page=99999999999": 200,
        "/?from=-5": 200,
        "/?from=²": 200,
        "/data/jobs?after=²": 200,
    }
    for path, status in pages.items():
        answer = requests.get(ui + path, timeout=10)
        assert answer.status_code == status, (path, answer.text[:300])
        assert answer.headers["Content-Type"].startswith("text/html"), path
    before = requests.get(mock.url + "/_mock/clock", timeout=10).json()
    forms = {
        "/clock": [{"action": "explode"}, {"action": "advance", "seconds": "soon"}, {"action": "advance"}],
        "/scenarios": [{"kind": "state", "name": "x" * 5000, "on": "1"}, {"kind": "fixture", "name": "nope"}],
        "/faults": [
            {"action": "add", "rule": "{not json"},
            {"action": "add", "rule": "[1]"},
            {"action": "remove"},
            {"action": "remove", "rule": "²"},
        ],
        "/volume": [
            {"provider": "Workflows", "collection": "workflows", "count": "0"},
            {"provider": "Workflows", "collection": "workflows", "count": "²"},
            {"provider": "x"},
        ],
    }
    for path, bodies in forms.items():
        for body in bodies:
            answer = requests.post(ui + path, data=body, timeout=10, allow_redirects=False)
            assert answer.status_code == 400, (path, body, answer.text[:300])
            assert "Not done" in answer.text, (path, body)
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["frozen"] == before["frozen"]
    assert requests.get(mock.url + "/_mock/faults", timeout=10).json()["rules"] == []
    # The page's last page number is clamped to the last page there is.
    last = requests.get(ui + "/data/Workflows/workflows?page=99999999999", timeout=10).text
    assert "Page 40,000 of 40,000" in last


def test_without_a_token_a_form_posted_under_another_host_name_is_refused(serve_dashboard: Serve) -> None:
    # A foreign site rebound to this address posts as its own origin: without MOCK_ADMIN_TOKEN only the
    # dashboard's loopback names are its own.
    mock = serve_dashboard()
    port = mock.url.rsplit(":", 1)[1]
    rebound = requests.post(
        f"{mock.url}/_mock/ui/clock",
        data={"action": "advance", "seconds": "60"},
        headers={"Host": f"rebound.test:{port}", "Origin": f"http://rebound.test:{port}"},
        timeout=10,
    )
    assert rebound.status_code == 403
    own = requests.post(
        f"{mock.url}/_mock/ui/clock",
        data={"action": "advance", "seconds": "60"},
        headers={"Origin": mock.url},
        timeout=10,
        allow_redirects=False,
    )
    assert own.status_code == 303
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["offset_seconds"] >= 60
