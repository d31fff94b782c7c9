"""What the dashboard's browser tests and its benchmark share: where Debian's chromium is, a pact with a
generated collection of a million items, and the axe-core accessibility check run inside a page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.collection_pact import collection_pact, kind, regex

CHROMIUM = "/usr/bin/chromium"
GENERATED_PROVIDER = "Workflows"
GENERATED_COLLECTION = "workflows"
GENERATED_COUNT = 1_000_000

_ITEM = {"id": 1, "name": "wf-1", "status": "RUNNING", "gpus": 8}
_MODEL = f"""\
version: 1
seed: 5
collections:
  {GENERATED_COLLECTION}:
    path: /api/workflow
    item: /api/workflow/{{id}}
    id: {{field: id, strategy: counter, start: 1}}
    envelope: workflows
    total: total
    generated:
      count: {GENERATED_COUNT}
      fields: {{name: {{text: "wf-{{index}}"}}}}
    page: {{style: offset, default: 20, max: 1000}}
"""


def write_generated_pact(folder: Path) -> None:
    """A V3 pact (consumer UI, provider Workflows) listing workflows by offset and reading one, and its model
    file: a generated collection of GENERATED_COUNT items."""
    digits = regex(r"^\d+$")
    pact = collection_pact(
        GENERATED_PROVIDER,
        path="/api/workflow",
        envelope="workflows",
        item=_ITEM,
        item_rules={
            "id": kind("integer"),
            "name": kind("type"),
            "status": regex("^(PENDING|RUNNING|COMPLETED|FAILED)$"),
            "gpus": kind("integer"),
        },
        query={"offset": ("0", digits), "limit": ("20", digits)},
        extra={"total": (1, kind("integer"))},
        read_path="/api/workflow/1",
        read_regex=r"^/api/workflow/\d+$",
    )
    (folder / f"UI-{GENERATED_PROVIDER}.json").write_text(json.dumps(pact, indent=1))
    (folder / f"UI-{GENERATED_PROVIDER}.model.yaml").write_text(_MODEL)


def axe_source() -> str:
    """axe-core's axe.min.js, as the axe-playwright-python package ships it (installed by the test extra)."""
    import axe_playwright_python

    found = sorted(Path(axe_playwright_python.__file__).parent.rglob("axe*.min.js"))
    if not found:
        raise RuntimeError("axe-playwright-python ships no axe.min.js: reinstall the test extra")
    return found[0].read_text(encoding="utf-8")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core run in the page (WCAG 2 A and AA rules and best practices): its violations of serious or
    critical impact, each with the nodes it names."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def paint_timing(page: Any) -> dict[str, float]:
    """The page's navigation and paint timing in ms from the start of navigation: response end, DOM content
    loaded, load, first paint and first contentful paint (Chromium's performance entries)."""
    return page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const paints = Object.fromEntries(performance.getEntriesByType('paint').map(p => [p.name, p.startTime]));
          return {responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd,
                  load: nav.loadEventEnd, firstPaint: paints['first-paint'] ?? -1,
                  firstContentfulPaint: paints['first-contentful-paint'] ?? -1};
        }"""
    )
