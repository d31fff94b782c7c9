"""The dashboard at /_mock/ui in a real headless Chromium against a real `pactmock serve`: what a person sees
and does there (open it, watch a run reach DONE, read a refusal's mismatches, switch a scenario, move the clock,
page to the end of a million items, use it by keyboard) and axe-core's check of every main view."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.support.dashboard import CHROMIUM, GENERATED_COLLECTION, GENERATED_PROVIDER, serious_violations
from tests.support.epx import EPX_HEADERS, run_request
from tests.support.mock_process import RunningMock

Serve = Callable[..., RunningMock]


def submit_run(mock: RunningMock) -> tuple[int, int]:
    """The epx flow over HTTP: register a job, ask for its input upload URL, submit a run. (job id, run id)"""
    job = requests.post(mock.url + "/jobs/register", json={"tags": ["info_job"]}, headers=EPX_HEADERS, timeout=10)
    assert job.status_code == 200, job.text
    job_id = job.json()["id"]
    upload = requests.post(
        mock.url + "/jobs", json={"jobId": job_id, "context": "job", "type": "input"}, headers=EPX_HEADERS, timeout=10
    )
    assert upload.status_code == 200, upload.text
    runs = requests.post(
        mock.url + "/runs", json={"runRequests": [run_request(job_id)]}, headers=EPX_HEADERS, timeout=10
    )
    assert runs.status_code == 200, runs.text
    return job_id, runs.json()["runResponses"][0]["runId"]


def freeze(mock: RunningMock, at: str = "2030-01-01T00:00:00Z") -> None:
    frozen = requests.post(mock.url + "/_mock/clock", json={"action": "freeze", "at": at}, timeout=10)
    assert frozen.status_code == 200, frozen.text


def test_the_dashboard_opens_on_the_contracts_and_their_coverage(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard(files={"Broken-Pact.json": '{"consumer": {"name": "x"}, "interactions": ['})
    submit_run(mock)
    page.goto(mock.url + "/_mock/ui/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contracts and coverage")
    expect(page.get_by_role("heading", name="epx → Epistemix")).to_be_visible()
    expect(page.get_by_role("heading", name="UI → Workflows")).to_be_visible()
    # The three requests of the flow each count once against the interaction that answered them.
    register = page.locator("table.coverage tr", has_text="POST").filter(has_text="/jobs/register")
    expect(register.first.locator("td.num").first).to_have_text("1")
    # The file the mock could not serve is named with the reason, as `pactmock contracts` gives it.
    expect(page.locator("#broken-pacts")).to_contain_text("Broken-Pact.json")
    # A reset starts the counts again.
    assert requests.post(mock.url + "/_mock/reset", timeout=30).status_code == 200
    page.reload()
    expect(register.first.locator("td.num").first).to_have_text("0")


def test_jobs_and_uploads_are_listed_with_their_bytes(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    job_id, _ = submit_run(mock)
    url = requests.post(
        mock.url + "/jobs", json={"jobId": job_id, "context": "job", "type": "input"}, headers=EPX_HEADERS, timeout=10
    ).json()["url"]
    stored = requests.put(url, data=b"zip bytes", headers={"Content-Type": "application/octet-stream"}, timeout=10)
    assert stored.status_code == 200
    page.goto(mock.url + "/_mock/ui/data")
    page.get_by_role("link", name="Jobs").click()
    job = page.locator("table tbody tr", has_text=str(job_id))
    expect(job).to_contain_text("info_job")
    job.get_by_role("link", name=f"Uploads of job {job_id}").click()
    upload = page.locator("table tbody tr", has_text="job_input")
    expect(upload).to_contain_text("9")
    expect(upload).to_contain_text("application/octet-stream")
    # Its link gives the bytes as uploaded.
    href = upload.get_by_role("link").get_attribute("href")
    assert requests.get(mock.url + str(href), timeout=10).content == b"zip bytes"


def test_a_run_submitted_over_http_reaches_done_on_the_page(
    serve_dashboard: Serve, database_url: str, page: Any
) -> None:
    mock = serve_dashboard(DATABASE_URL=database_url)
    freeze(mock)
    job_id, run_id = submit_run(mock)
    page.goto(f"{mock.url}/_mock/ui/data/runs?job={job_id}")
    status = page.locator(f"#run-{run_id} [data-status]")
    expect(status).to_have_text("NOT_STARTED")
    # The clock moves; the page refreshes its table by itself (no reload here) and shows where the run is now.
    moved = requests.post(mock.url + "/_mock/clock", json={"action": "advance", "seconds": 5}, timeout=10)
    assert moved.status_code == 200
    expect(status).to_have_text("RUNNING")
    requests.post(mock.url + "/_mock/clock", json={"action": "advance", "seconds": 60}, timeout=10)
    expect(status).to_have_text("DONE")
    expect(page.locator(f"#run-{run_id}")).to_contain_text("Succeeded")
    # The client reads the same.
    runs = requests.get(f"{mock.url}/runs?job_id={job_id}", headers=EPX_HEADERS, timeout=10).json()["runs"]
    assert runs[0]["status"] == "DONE"


def test_a_refused_request_shows_its_mismatches_and_near_misses(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    page.goto(mock.url + "/_mock/ui/journal")
    expect(page.get_by_text("No request yet")).to_be_visible()
    # The open page shows the request when it arrives (the journal refreshes itself).
    refused = requests.post(
        mock.url + "/runs", json={"runRequests": [run_request("abc")]}, headers=EPX_HEADERS, timeout=10
    )
    assert refused.status_code == 400
    row = page.locator("table.journal > tbody > tr", has_text="POST /runs").first
    expect(row.locator(".status")).to_have_text("400")
    mismatch = row.locator("table.mismatches tbody tr", has_text="runRequests[0].jobId")
    expect(mismatch).to_contain_text('"abc"')
    expect(mismatch).to_contain_text("body")
    row.get_by_role("link", name=re.compile("Near misses")).click()
    expect(page.get_by_role("heading", name="Near misses")).to_be_visible()
    closest = page.locator("section.near").first
    expect(closest).to_contain_text("POST /runs")
    expect(closest.locator("table.mismatches")).to_contain_text("runRequests[0].jobId")
    # The journal withheld the client's Offline-Token: it is named, and not judged against its withheld value.
    expect(page.get_by_text("withheld the values of offline-token")).to_be_visible()
    expect(closest.locator("table.mismatches")).not_to_contain_text("Offline-Token")
    page.get_by_role("link", name="Journal", exact=True).click()
    page.get_by_role("button", name="Clear the journal").click()
    expect(page.get_by_role("status")).to_have_text("The journal is cleared")
    expect(page.get_by_text("No request yet")).to_be_visible()


def test_a_scenario_is_switched_on_and_off_from_the_page(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    page.goto(mock.url + "/_mock/ui/controls")
    page.get_by_role("button", name="Turn on “job 123 exists”").click()
    expect(page.get_by_role("status")).to_have_text("job 123 exists is on")
    catalogue = requests.get(mock.url + "/_mock/scenarios", timeout=10).json()
    assert catalogue["active"]["provider_states"] == ["job 123 exists"]
    # The state's data is there for a client: job 123 exists.
    runs = requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10)
    assert runs.status_code == 200, runs.text
    page.get_by_role("button", name="Turn on Flow “all_scenarios”").click()
    expect(page.get_by_role("status")).to_have_text("all_scenarios is on")
    assert requests.get(mock.url + "/_mock/scenarios", timeout=10).json()["active"]["fixtures"] == [
        ["Flow", "all_scenarios"]
    ]
    page.get_by_role("button", name="Turn off “job 123 exists”").click()
    expect(page.get_by_role("status")).to_have_text("job 123 exists is off")
    assert requests.get(mock.url + "/_mock/scenarios", timeout=10).json()["active"]["provider_states"] == []


def test_the_clock_is_set_and_advanced_from_the_page(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    page.goto(mock.url + "/_mock/ui/controls")
    page.get_by_label("Time (RFC 3339)").fill("2030-01-01T00:00:00Z")
    page.get_by_role("button", name="Freeze").click()
    expect(page.get_by_role("status")).to_contain_text("frozen: 2030-01-01T00:00:00+00:00")
    page.get_by_label("Seconds").fill("90")
    page.get_by_role("button", name="Advance the clock").click()
    expect(page.get_by_role("status")).to_contain_text("advanced: 2030-01-01T00:01:30+00:00")
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["now"] == "2030-01-01T00:01:30+00:00"
    # Input the control plane refuses is refused here too, saying why; the clock stays where it was.
    page.get_by_label("Time (RFC 3339)").fill("tomorrow")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("RFC 3339")
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["now"] == "2030-01-01T00:01:30+00:00"


def test_paging_to_the_end_of_a_million_generated_items(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    page.goto(mock.url + "/_mock/ui/data")
    page.get_by_role("link", name=GENERATED_COLLECTION).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{GENERATED_PROVIDER}: {GENERATED_COLLECTION}")
    expect(page.locator(".pager p")).to_have_text("Page 1 of 40,000 (1,000,000 items).")
    page.get_by_role("link", name="Last").click()
    expect(page.locator(".pager p")).to_have_text("Page 40,000 of 40,000 (1,000,000 items).")
    last_row = page.locator("table.items tbody tr").last
    expect(last_row.locator("td").nth(0)).to_have_text("999,999")
    expect(last_row.locator("td").nth(1)).to_have_text("1000000")
    # The same item as a client reads it.
    item = requests.get(mock.url + "/api/workflow/1000000", timeout=10).json()
    expect(last_row).to_contain_text(item["name"])
    page.get_by_role("link", name="Previous").click()
    expect(page.locator(".pager p")).to_have_text("Page 39,999 of 40,000 (1,000,000 items).")


def test_every_main_view_passes_axe_core(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    job_id, _ = submit_run(mock)
    requests.post(mock.url + "/runs", json={"runRequests": [run_request("abc")]}, headers=EPX_HEADERS, timeout=10)
    views = [
        "/_mock/ui/",
        "/_mock/ui/journal",
        "/_mock/ui/data",
        "/_mock/ui/data/jobs",
        f"/_mock/ui/data/runs?job={job_id}",
        "/_mock/ui/data/uploads",
        f"/_mock/ui/data/{GENERATED_PROVIDER}/{GENERATED_COLLECTION}",
        "/_mock/ui/controls",
    ]
    found = {}
    for view in views:
        page.goto(mock.url + view)
        found[view] = serious_violations(page)
    record = page.goto(mock.url + "/_mock/ui/journal")
    assert record is not None
    page.locator("a", has_text="Near misses").first.click()
    found["a journal record"] = serious_violations(page)
    # The controls with a fault rule listed and a message, then with a refusal.
    page.goto(mock.url + "/_mock/ui/controls")
    page.get_by_label("A rule, as").fill('{"match": {"route": "POST /runs"}, "delay": {"fixed": 10}}')
    page.get_by_role("button", name="Add the fault").click()
    expect(page.get_by_role("status")).to_have_text("Fault rule 1 added")
    found["controls with a fault"] = serious_violations(page)
    page.get_by_label("Time (RFC 3339)").fill("never")
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    found["a refused form"] = serious_violations(page)
    assert {view: v for view, v in found.items() if v} == {}, found


def test_the_controls_work_by_keyboard(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    freeze(mock)
    page.goto(mock.url + "/_mock/ui/controls")
    # The skip link is the first stop.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    # Tab on to the clock's seconds field, type, tab to its button and press Enter.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "advance-seconds":
            break
    else:
        pytest.fail("Tab never reached the clock's seconds field")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused field shows no focus outline"
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Advance the clock"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("advanced: 2030-01-01T00:00:30+00:00")
    # Back on the clock's section: the next Tab stays in it.
    assert page.url.endswith("#clock")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('section').getAttribute('aria-labelledby')") == "clock"


def test_with_an_admin_token_the_dashboard_works_from_another_host_name(serve_dashboard: Serve, driver: Any) -> None:
    token = "dashboard-secret"
    mock = serve_dashboard(MOCK_ADMIN_TOKEN=token)
    port = mock.url.rsplit(":", 1)[1]
    # The browser reaches the mock under a name that is not a loopback one, as from another host.
    browser = driver.chromium.launch(
        executable_path=CHROMIUM, args=["--host-resolver-rules=MAP dashboard.test 127.0.0.1"]
    )
    try:
        page = browser.new_page()
        base = f"http://dashboard.test:{port}/_mock/ui"
        assert page.goto(base + "/controls").status == 401
        assert page.goto(f"{base}/?token={token}").status == 200
        # Every link and form carries the token on: the next page and a form's post are let in.
        page.get_by_role("link", name="Controls").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Controls")
        assert f"token={token}" in page.url
        page.get_by_label("Seconds").fill("3600")
        page.get_by_role("button", name="Advance the clock").click()
        expect(page.get_by_role("status")).to_contain_text("The clock is advanced")
        clock = requests.get(mock.url + "/_mock/clock", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert clock.json()["offset_seconds"] >= 3600
        # A page of another site cannot post to it, token or not: its origin is not the mock's.
        refused = requests.post(
            f"{mock.url}/_mock/ui/clock?token={token}",
            data={"action": "advance", "seconds": "60"},
            headers={"Origin": "http://evil.test", "Host": f"dashboard.test:{port}"},
            timeout=10,
        )
        assert refused.status_code == 403
    finally:
        browser.close()


def test_screenshots_of_the_main_views(serve_dashboard: Serve, page: Any, tmp_path: Path) -> None:
    """The README's pictures: written to PACTMOCK_SCREENSHOTS_DIR when it is set (docs/screenshots), else to a
    temporary folder, so the pages render whole in every run."""
    folder = Path(os.environ.get("PACTMOCK_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    mock = serve_dashboard()
    freeze(mock)
    submit_run(mock)
    submit_run(mock)
    requests.post(mock.url + "/_mock/clock", json={"action": "advance", "seconds": 3}, timeout=10)
    requests.post(mock.url + "/runs", json={"runRequests": [run_request("abc")]}, headers=EPX_HEADERS, timeout=10)
    requests.get(mock.url + "/api/workflow?offset=0&limit=20", timeout=10)
    requests.post(
        mock.url + "/_mock/faults",
        json={"match": {"route": "POST /runs"}, "error": {"status": 503, "probability": 0.1}},
        timeout=10,
    )
    shots = {
        "contracts": "/_mock/ui/",
        "journal": "/_mock/ui/journal",
        "runs": "/_mock/ui/data/runs",
        "collection": f"/_mock/ui/data/{GENERATED_PROVIDER}/{GENERATED_COLLECTION}?page=40000",
        "controls": "/_mock/ui/controls",
    }
    for name, view in shots.items():
        page.goto(mock.url + view)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=False)
        assert (folder / f"dashboard-{name}.png").stat().st_size > 10_000
    page.goto(mock.url + "/_mock/ui/journal?status=400")
    page.get_by_role("link", name=re.compile("Near misses")).first.click()
    expect(page.get_by_role("heading", name="Near misses")).to_be_visible()
    page.screenshot(path=str(folder / "dashboard-near-misses.png"), full_page=False)


def test_stored_rows_are_paged_by_keyset(serve_dashboard: Serve, page: Any) -> None:
    mock = serve_dashboard()
    for _ in range(30):
        registered = requests.post(mock.url + "/jobs/register", json={"tags": ["t"]}, headers=EPX_HEADERS, timeout=10)
        assert registered.status_code == 200
    page.goto(mock.url + "/_mock/ui/data/jobs")
    summary = page.locator(".pager p")
    expect(summary).to_have_text("30 in all; this page shows 25, jobs 123 to 147.")
    page.get_by_role("link", name="Next").click()
    expect(summary).to_have_text("30 in all; this page shows 5, jobs 148 to 152.")
    expect(page.locator(".pager").get_by_text("Next")).not_to_have_attribute("href", re.compile("."))
    page.get_by_role("link", name="Previous").click()
    expect(summary).to_have_text("30 in all; this page shows 25, jobs 123 to 147.")
    page.get_by_role("link", name="Last").click()
    expect(summary).to_have_text("30 in all; this page shows 25, jobs 128 to 152.")
