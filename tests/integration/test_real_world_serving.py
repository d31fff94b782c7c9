"""Issue 12's defect classes on the real server: minimal pacts served by `pactmock serve`, checked with the
official verifier and by what a client sees on the wire."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from pact import Verifier

PNG = b"\x89PNG\r\n\x1a\n\x00\x01\xff"


def http(description: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "request": request, "response": response or {"status": 200}}


INTERACTIONS = [
    http(
        "an encoded path",
        {"method": "GET", "path": "/pacticipants/Pricing%20Service"},
        {"status": 200, "body": {"a": 1}},
    ),
    http("a path written decoded", {"method": "GET", "path": "/things/a b"}, {"status": 200, "body": "text here"}),
    http(
        "a path regex on the encoded form",
        {
            "method": "GET",
            "path": "/rx/Pricing%20Service",
            "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": r"/rx/Pricing%20\w+"}]}},
        },
        {"status": 200, "body": "<a>1</a>"},
    ),
    http(
        "a picture",
        {"method": "GET", "path": "/picture"},
        {"status": 200, "headers": {"Content-Type": "image/png"}, "body": base64.b64encode(PNG).decode()},
    ),
    http(
        "an upload",
        {
            "method": "PUT",
            "path": "/upload",
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(PNG).decode(),
        },
        {"status": 204},
    ),
    http("negotiated, JSON", {"method": "GET", "path": "/report"}, {"status": 200, "body": {"format": "json"}}),
    http(
        "negotiated, XML",
        {"method": "GET", "path": "/report", "headers": {"Accept": "application/xml"}},
        {"status": 200, "headers": {"Content-Type": "application/xml"}, "body": "<report>xml</report>"},
    ),
    http("repeated", {"method": "GET", "path": "/repeated"}, {"status": 200, "body": {"once": True}}),
    http("repeated", {"method": "GET", "path": "/repeated"}, {"status": 200, "body": {"once": True}}),
    http(
        "a generated form",
        {"method": "GET", "path": "/form"},
        {
            "status": 200,
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            "body": "id=1&name=bob",
            "generators": {"body": {"$.id": {"type": "RandomInt", "min": 100, "max": 999}}},
        },
    ),
    http(
        "generated XML",
        {"method": "GET", "path": "/xml"},
        {
            "status": 200,
            "headers": {"Content-Type": "application/xml"},
            "body": '<root id="1"><item>old</item></root>',
            "generators": {
                "body": {
                    "$.root['@id']": {"type": "RandomInt", "min": 100, "max": 999},
                    "$.root.item['#text']": {"type": "RandomString", "size": 6},
                }
            },
        },
    ),
]
VERIFIED = [i for i in INTERACTIONS if i["description"] not in ("a generated form", "generated XML")]


def write_pact(folder: Path, name: str, interactions: list[dict[str, Any]]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    document = {
        "consumer": {"name": "web"},
        "provider": {"name": "RealWorld"},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def served(tmp_path: Path, run_mock: Any) -> Any:
    write_pact(tmp_path / "pacts", "real-world.json", INTERACTIONS)
    return run_mock(tmp_path / "pacts")


def test_the_verifier_passes_every_class(served: Any, tmp_path: Path) -> None:
    pact_file = write_pact(tmp_path / "verified", "verified.json", VERIFIED)
    verifier = (
        Verifier("RealWorld", host="127.0.0.1")
        .add_transport(url=served.url)
        .add_source(pact_file)
        .set_request_timeout(10_000)
    )
    try:
        verifier.verify()
    except RuntimeError as error:
        pytest.fail(f"{error}\n{verifier.output(strip_ansi=True)}\n--- mock log ---\n{served.log()}")
    assert verifier.results["result"] is True


def test_what_a_client_sees(served: Any) -> None:
    url = served.url
    answer = requests.get(f"{url}/pacticipants/Pricing%20Service", timeout=10)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "application/json")
    answer = requests.get(f"{url}/things/a%20b", timeout=10)
    assert (answer.status_code, answer.headers["Content-Type"], answer.text) == (200, "text/plain", "text here")
    assert requests.get(f"{url}/rx/Pricing%20Service", timeout=10).headers["Content-Type"] == "application/xml"
    answer = requests.get(f"{url}/picture", timeout=10)
    assert (answer.content, answer.headers["Content-Type"]) == (PNG, "image/png")
    octets = {"Content-Type": "application/octet-stream"}
    assert requests.put(f"{url}/upload", data=PNG, headers=octets, timeout=10).status_code == 204
    refused = requests.put(f"{url}/upload", data=b"\xff\xfe\xfd", headers=octets, timeout=10)
    assert refused.status_code == 400 and "UTF-8" not in refused.text
    assert (
        requests.get(f"{url}/report", headers={"Accept": "application/xml"}, timeout=10).text == "<report>xml</report>"
    )
    assert requests.get(f"{url}/report", timeout=10).json() == {"format": "json"}
    assert requests.get(f"{url}/repeated", timeout=10).json() == {"once": True}
    assert "are identical: served once" in served.log()


def test_generated_values_in_form_and_xml_bodies(served: Any) -> None:
    forms = {requests.get(f"{served.url}/form", timeout=10).text for _ in range(3)}
    assert all(form.startswith("id=") and form.endswith("&name=bob") for form in forms)
    assert all(100 <= int(form[3:6]) <= 999 for form in forms) and len(forms) > 1
    xml = requests.get(f"{served.url}/xml", timeout=10).text
    assert xml.startswith('<root id="') and "<item>old</item>" not in xml and 'id="1"' not in xml
