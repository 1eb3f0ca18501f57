"""The page in a real browser: Debian's chromium, driven by Playwright, against
`python -m symgrad serve` on a free loopback port. Skipped locally without chromium or
playwright; in CI (CI=true) their absence is a failure (.ci/run installs both)."""

from __future__ import annotations

import os

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def figures():
    module = load_benchmark("web_figures")
    why = module.browser_missing()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {why}")
        pytest.skip(why)
    pytest.importorskip("uvicorn")
    return module


@pytest.fixture(scope="module")
def flow(figures, tmp_path_factory):
    shot = tmp_path_factory.mktemp("page") / "page.png"
    with figures.server() as base, figures.browser_page() as page:
        out = figures.founding_example(page, base, str(shot))
    out["screenshot"] = shot
    print(f"\npage load to rendered result (founding example): "
          f"{out['load_to_result_s']:.3f} s")
    return out


def test_gradient_is_rendered_by_katex(flow, figures):
    assert flow["annotation"] == r"\frac{\partial L}{\partial b} = " + figures.GRADIENT
    assert flow["katex_html"] == 1  # rendered, not left as source
    assert r"b & b & \cdots & b" in flow["broadcast"]
    assert flow["derivation_blocks"] >= 2


def test_check_verdicts(flow):
    assert flow["wrong_verdict"].strip().startswith("Wrong.")
    assert "broadcast" in flow["wrong_verdict"] and "counterexample" in flow["wrong_verdict"]
    assert flow["right_verdict"] == "Right."


def test_code_block(flow):
    code = flow["code"]
    assert code.startswith("def gradients(W, X, b, dL_df):")
    assert "grad_b = dL_df.sum(axis=1, keepdims=True)" in code


def test_error_is_shown_with_its_caret(flow):
    assert "InputSyntaxError" in flow["error"] and "(column 8)" in flow["error"]
    assert "W @ X +\n" in flow["error"] and flow["error"].rstrip().endswith("^")


def test_ascii_input_with_inferred_shapes(flow):
    assert flow["inferred_annotation"] == r"\frac{\partial L}{\partial x} = (A + A^{\top}) x"
    notes = flow["inferred_notes"]
    assert "A: n×n (a capital letter: a matrix)" in notes and "read as ascii" in notes


def test_screenshot_taken(flow):
    png = flow["screenshot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
