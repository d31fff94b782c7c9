"""The dashboard's controls: scenarios on and off, the clock, faults and generated volumes, as HTML forms.

Each form posts to a handler here that calls what the JSON control plane calls (the scenarios' check and switch,
MockClock.change, FaultStore, Engine.set_count), then sends the browser back to the controls (303) with a line
saying what changed; input the control plane would refuse is refused the same way, with a 400 page saying why.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, request

from ..domain.errors import Invalid
from ..resources.model import PRESETS
from .control_clock import _instant, _seconds
from .control_scenarios import _catalogue, _check, _switch
from .fault_rules import BadRules
from .faults import FaultStore
from .ui_base import link, mock_clock, render, served, ui_control

CLOCK_ACTIONS = {
    "freeze": "frozen",
    "resume": "running again",
    "advance": "advanced",
    "set": "set",
}


def _faults() -> FaultStore:
    current = served()
    return FaultStore(current.store, current.settings.generator_seed)


def _generated() -> list[dict[str, Any]]:
    current = served()
    now = mock_clock()()
    found = []
    for provider, engine_of in sorted(current.providers.engines.items()):
        engine = engine_of(current.store)
        for name, collection in engine.model.collections.items():
            if collection.generated is not None:
                found.append({"provider": provider, "collection": name, "count": engine.count(name, now)})
    return found


@ui_control.get("/_mock/ui/controls")
def controls() -> Response:
    """Scenarios, clock, faults and volumes, each with its switches."""
    return _controls_page()


def _controls_page(refusal: str | None = None, fault_text: str = "") -> Response:
    return render(
        "ui/controls.html",
        status=400 if refusal else 200,
        catalogue=_catalogue(served()),
        faults=_faults().read().as_json(),
        generated=_generated(),
        presets=PRESETS,
        refusal=refusal,
        fault_text=fault_text,
    )


def _done(said: str, anchor: str) -> Response:
    # 303: the browser follows with a GET, so reloading the page does not post the form again.
    return redirect(link("ui.controls", said=said, _anchor=anchor), code=303)  # type: ignore[return-value]


@ui_control.post("/_mock/ui/scenarios")
def switch_scenario() -> Response:
    """One provider state, fixture or scenario on or off."""
    form = request.form
    on = form.get("on") == "1"
    name = form.get("name", "")
    entry: dict[str, Any] = (
        {"state": name} if form.get("kind") == "state" else {"provider": form.get("provider", ""), "fixture": name}
    )
    catalogue = _catalogue(served())
    known = [s["name"] for s in catalogue["provider_states"]] + [f["name"] for f in catalogue["fixtures"]]
    if name not in known:
        # The page switches what the catalogue lists; GET or POST /_mock/scenarios takes any state with params.
        return _controls_page(f"there is no scenario {name[:80]!r} to switch")
    try:
        _check(served(), entry)
        _switch(served(), entry, on)
    except (Invalid, LookupError) as error:
        return _controls_page(str(error).strip("'\""))
    return _done(f"{name} is {'on' if on else 'off'}", "scenarios")


@ui_control.post("/_mock/ui/clock")
def change_clock() -> Response:
    """Freeze, resume, advance or set the mock's clock; or give it the system's time again."""
    form = request.form
    action = form.get("action", "")
    clock = mock_clock()
    try:
        if action == "system":
            changed = clock.reset()
        elif action in CLOCK_ACTIONS:
            seconds = _seconds(_float(form.get("seconds"))) if action == "advance" else None
            at = _instant(form.get("at") or None) if action in ("set", "freeze") else None
            changed = clock.change(action, seconds, at)
        else:
            raise Invalid(f"the clock can freeze, resume, advance, set or follow the system, not {action[:40]!r}")
    except Invalid as error:
        return _controls_page(str(error))
    # The setting just written: this process's cached one is renewed only once the change is announced.
    now = changed.as_json(clock.system())["now"]
    verb = "back on the system's time" if action == "system" else CLOCK_ACTIONS[action]
    return _done(f"The clock is {verb}: {now}", "clock")


def _float(text: str | None) -> float | None:
    if text is None or not text.strip():
        raise Invalid("say how many seconds to advance the clock by")
    try:
        return float(text)
    except ValueError:
        raise Invalid(f'"seconds" must be a number, not {text[:40]!r}') from None


@ui_control.post("/_mock/ui/faults")
def change_faults() -> Response:
    """Add a fault rule (JSON, as POST /_mock/faults takes it), remove one, or remove them all."""
    form = request.form
    action = form.get("action", "")
    keeper = _faults()
    if action == "clear":
        keeper.clear()
        return _done("No faults any more", "faults")
    if action == "remove":
        rule_id = form.get("rule", "")
        if not (rule_id.isascii() and rule_id.isdigit()) or not keeper.remove(int(rule_id)):
            return _controls_page(f"there is no fault rule {rule_id[:20]!r}")
        return _done(f"Fault rule {rule_id} removed", "faults")
    text = form.get("rule", "")
    try:
        rule = keeper.add(_rule_json(text))
    except BadRules as error:
        return _controls_page(str(error), fault_text=text)
    return _done(f"Fault rule {rule.id} added", "faults")


def _rule_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise BadRules((), f"a rule is a JSON object ({error})") from None


@ui_control.post("/_mock/ui/volume")
def change_volume() -> Response:
    """A generated collection's count, by number or preset."""
    form = request.form
    current = served()
    provider, name = form.get("provider", ""), form.get("collection", "")
    engine_of = current.providers.engines.get(provider)
    engine = engine_of(current.store) if engine_of is not None else None
    if engine is None or name not in engine.model.collections:
        return _controls_page(f"no generated collection {name[:60]!r} of {provider[:60]!r}")
    text = form.get("count", "").replace(",", "").replace("_", "").strip()
    try:
        count = PRESETS.get(text.upper()) or (int(text) if text.isascii() and text.isdigit() else None)
        if count is None:
            raise Invalid(f"a count is a whole number or one of {', '.join(PRESETS)}, not {text[:40]!r}")
        now = mock_clock()()
        engine.set_count(name, count, now)
    except Invalid as error:
        return _controls_page(str(error))
    return _done(f"{provider} {name} now holds {engine.count(name, now):,} items", "volume")
