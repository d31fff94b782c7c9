"""docs/resources.md's model file is a valid one: a user who copies it gets a model, not an error."""

from __future__ import annotations

import re
from pathlib import Path

from app.resources.modelfile import read_model_file

DOC = Path(__file__).resolve().parents[3] / "docs" / "resources.md"


def test_the_documented_model_file_reads(tmp_path: Path) -> None:
    [example] = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    model_file = tmp_path / "docs.model.yaml"
    model_file.write_text(example)
    model = read_model_file(model_file, "Flow")
    assert set(model.collections) == {"tasks", "pools", "pods", "workflows"}
    assert len(model.actions) == 7 and model.start == ("default_pool",)
    assert model.collections["tasks"].machine is not None
    assert set(model.collections["tasks"].machine.timed) == {"pending", "running"} and model.seed == 7
    assert model.collections["workflows"].generated is not None
