"""The scaling benchmark keeps working: it runs (--quick) and the result size grows linearly.

Timing is measured by the benchmark, not tested here: only structural properties are asserted.
"""

from __future__ import annotations

import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def derive_scaling():
    return load_benchmark("derive_scaling")


@pytest.fixture(scope="module")
def quick_run(derive_scaling):
    return derive_scaling.main(["--quick", "--repeats", "1"])


def test_quick_run_reports_every_depth_and_target(quick_run):
    rows = quick_run["rows"]
    assert [r["L"] for r in rows] == [1, 2, 4, 8]
    for r in rows:
        assert r["nodes"] > 0 and r["chars"] >= r["max_chars"] > 0
    labels = [label for label, _ in quick_run["checks"]]
    assert len(labels) == 5 and all(isinstance(p, bool) or p is None
                                    for _, p in quick_run["checks"])


def test_sympy_comparison_ran(quick_run):
    for key in ("sympy_tanh", "sympy_linear"):
        assert quick_run[key], f"no SymPy comparison ({key})"
        for r in quick_run[key]:
            assert r["sympy"]["status"] in ("done", "timeout"), r["sympy"]


def test_dag_nodes_grow_at_most_linearly(quick_run):
    nodes = {r["L"]: r["nodes"] for r in quick_run["rows"]}
    # Doubling the depth at most doubles the shared DAG (plus a little): quadratic growth,
    # e.g. from unshared back-propagated chains, would give about 4x.
    for L in (2, 4):
        assert nodes[2 * L] <= 2.3 * nodes[L], nodes
    # Each added layer costs no more nodes than the layers before it did.
    per_layer = [(nodes[b] - nodes[a]) / (b - a) for a, b in ((1, 2), (2, 4), (4, 8))]
    assert max(per_layer[1:]) <= 1.1 * per_layer[0], per_layer


def test_sympy_worker_reports_a_timeout(derive_scaling):
    res = derive_scaling.run_sympy(16, False, timeout=1, verify=False, repeats=1)
    assert res["status"] == "timeout"
