"""The generated-code benchmark keeps working: it runs in --quick mode and reports every figure.

Timings are what the benchmark measures, not what the tests assert: only the structure of the
report and the FLOP count (exact, not timed) are checked here.
"""

from __future__ import annotations

import math

import pytest
from conftest import load_benchmark

# torch.func's forward mode scripts its decompositions with the deprecated torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script`:DeprecationWarning")


@pytest.fixture(scope="module")
def quick_run():
    pytest.importorskip("torch")
    return load_benchmark("codegen_figures").main(["--quick", "--rounds", "1", "--threads", "0"])


def test_mlp_figures(quick_run):
    m = quick_run["mlp"]
    for dtype in ("float64", "float32"):
        seconds = m[dtype]["seconds"]
        assert {"generated", "hand", "torch.autograd", "generated torch"} <= set(seconds)
        assert all(math.isfinite(s) and s > 0 for s in seconds.values())
        assert math.isfinite(m[dtype]["ratio_vs_hand"])


def test_flop_count_is_the_cheap_gradient(quick_run):
    f = quick_run["mlp"]["flops"]
    # Exact counts for N = 16 and widths 8 (no timing): the forward pass and the loss and all
    # gradients; the generated backward pass costs what the hand-written one does, within 5%
    # (it scales the gradients where the hand-written code scales the residual).
    assert f["forward"] > 0 and 2 <= f["ratio"] <= 3
    assert abs(f["gradient_code"] - f["hand_written"]) <= 0.05 * f["hand_written"]


def test_hessian_figures(quick_run):
    h = quick_run["hessians"]
    if not h["measured"]:
        pytest.skip(h["why"])
    for key in ("quadratic", "logistic"):
        seconds = h[key]["seconds"]
        assert {"generated numpy", "torch.func.hessian",
                "torch.autograd.functional.hessian"} <= set(seconds)
        assert math.isfinite(h[key]["speedup_vs_torch_func"])
    assert [label for label, _ in quick_run["checks"]][0].startswith("MLP float64")
