"""examples/tour.ipynb runs under `jupyter nbconvert --execute`, and every result type in it
shows a rich display (LaTeX or Markdown), not a repr."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
NOTEBOOK = ROOT / "examples" / "tour.ipynb"

# The display each tagged cell's result must have.
WANTED = {
    "expression": "text/latex",
    "results": "text/latex",
    "derivation": "text/latex",
    "verify": "text/markdown",
    "verdict": "text/markdown",
    "gradcheck": "text/markdown",
    "code": "text/markdown",
    "sympy": "text/latex",
}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    pytest.importorskip("nbconvert", reason="the notebook extra is not installed")
    pytest.importorskip("ipykernel", reason="the notebook extra is not installed")
    out = tmp_path_factory.mktemp("nb")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=300", "--output-dir", str(out),
                    str(NOTEBOOK)], check=True, env=env, cwd=ROOT, capture_output=True,
                   timeout=600)
    return json.loads((out / NOTEBOOK.name).read_text())


def _results(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            tags = cell["metadata"].get("tags", [])
            yield tags[0] if tags else None, cell["outputs"]


def test_every_result_type_is_rendered(executed):
    seen = set()
    for tag, outputs in _results(executed):
        assert not [o for o in outputs if o["output_type"] == "error"], tag
        if tag is None:
            continue
        data = [o["data"] for o in outputs if o["output_type"] == "execute_result"]
        assert data and WANTED[tag] in data[0], (tag, data)
        seen.add(tag)
    assert seen == set(WANTED)


def test_the_displays_say_what_they_show(executed):
    shown = {}
    for tag, outputs in _results(executed):
        for o in outputs:
            if o["output_type"] == "execute_result" and tag:
                shown.setdefault(tag, []).append("".join(o["data"][WANTED[tag]]))
    assert any(r"\frac{\partial L}{\partial f} \mathbf{1}_{k}" in s for s in shown["expression"])
    assert r"\frac{\partial L}{\partial W} &=" in shown["results"][0]
    assert "✗ wrong" in shown["verdict"][0]
    assert "gradcheck passed" in shown["gradcheck"][0]
    assert "steps agree" in shown["verify"][0]
    assert shown["code"][0].startswith("```python\nimport numpy as np")
    assert "def generated(W, X, b):" in shown["code"][0]
