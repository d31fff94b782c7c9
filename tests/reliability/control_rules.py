"""The control plane's calls as the real app's URL map has them: every /_mock/ rule, its methods, and a path
that reaches it. Read from the app `pactmock serve` builds (factory.build_app), so a call added later is in
every list made from here without a test being touched."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from werkzeug.routing import IntegerConverter, Rule

from app.settings import Settings
from app.web.factory import build_app

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
# A value for each path variable: ones that name something real where that matters, so a passing call is seen.
SAMPLE_VALUES = {
    "slug": "not-found",
    "name": "swagger-ui.css",
    "key": "job_input",
    "provider": "Epistemix",
    "collection": "items",
    "filename": "x",
}


@dataclass(frozen=True)
class Call:
    """One method of one URL rule, and the path that reaches it."""

    rule: str
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def app_rules(pact_dir: Path = PACT_DIR) -> list[Rule]:
    """The URL map of the app `pactmock serve` runs on these pacts, built in-process on a throwaway SQLite file."""
    with tempfile.TemporaryDirectory(prefix="pactmock-rules-") as folder:
        env = {
            **os.environ,
            "PACT_DIR": str(pact_dir),
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'rules.sqlite3'}",
            "PACTMOCK_JOURNAL_SIZE": "0",
        }
        app = build_app(Settings.from_env(env))
        return list(app.url_map.iter_rules())


def path_of(rule: Rule, values: dict[str, str] | None = None) -> str:
    """A path the rule matches: each variable filled from `values`, else a sample value."""
    given = {**SAMPLE_VALUES, **(values or {})}
    filled = {
        name: 123 if isinstance(converter, IntegerConverter) else given.get(name, "x")
        for name, converter in rule._converters.items()
    }
    built = rule.build(filled, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def control_calls(rules: list[Rule], values: dict[str, str] | None = None) -> list[Call]:
    """Every method of every /_mock/ rule, in a stable order."""
    return [
        Call(rule.rule, method, path_of(rule, values))
        for rule in sorted(rules, key=lambda r: r.rule)
        if rule.rule.startswith("/_mock")
        for method in sorted(rule.methods or ())
    ]
