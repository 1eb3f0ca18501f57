"""Derivation work grows linearly with depth, for every deep family of benchmarks/derive_depth.py.

Time is the benchmark's figure; here the work is counted, so the test cannot flake on a busy
machine: the nodes the simplifier tries its rules on, and the readings of a node as a sum of
products (algebra.terms, which an unmemoized simplifier re-walked below every node: cubic in
the depth of a chain of elementwise functions), and the steps of the textbook rules' cheap
look at a product's Hadamard factors (hadamard.factors, which once walked every partial product
of a chain whole: quadratic).
"""

from __future__ import annotations

import pytest
from conftest import load_benchmark

import symgrad as sg
from symgrad import algebra, hadamard
from symgrad.simplify import WORK

DEPTHS = {"tanh-chain": (20, 40, 80), "rnn-bptt": (4, 8, 16), "mlp": (2, 4, 8)}
GROWTH_MAX = 2.2  # doubling the depth at most doubles the work (plus a little)


@pytest.fixture(scope="module")
def families():
    return load_benchmark("derive_depth").FAMILIES


def work(build, depth: int, monkeypatch) -> tuple[int, int, int]:
    """(simplifier visits, algebra.terms calls, hadamard.factors steps) of one sg.grad of the
    family at `depth`."""
    calls, steps = [0], [0]
    terms, through = algebra.terms, hadamard._through

    def counted(n, memo=None):
        calls[0] += 1
        return terms(n, memo)

    def stepped(e):
        steps[0] += 1
        return through(e)

    y, wrt = build(depth)
    with monkeypatch.context() as m:
        m.setattr(algebra, "terms", counted)  # terms' own recursion is counted too
        m.setattr(hadamard, "_through", stepped)
        before = WORK["visits"]
        sg.grad(y, wrt)
    return WORK["visits"] - before, calls[0], steps[0]


@pytest.mark.parametrize("family", sorted(DEPTHS))
def test_work_is_linear_in_depth(family, families, monkeypatch):
    counts = [work(families[family], d, monkeypatch) for d in DEPTHS[family]]
    for (v1, t1, f1), (v2, t2, f2) in zip(counts, counts[1:]):
        assert v2 <= GROWTH_MAX * v1, f"simplifier visits {counts}"
        assert t2 <= GROWTH_MAX * t1, f"terms calls {counts}"
        assert f2 <= GROWTH_MAX * max(f1, 1), f"hadamard.factors steps {counts}"


def test_deep_chain_gradient_is_the_chain_rule():
    """The deferred partial products still give the full product of the derivatives."""
    families = load_benchmark("derive_depth").FAMILIES
    y, (x,) = families["tanh-chain"](6)
    assert sg.gradcheck(y, x).ok
    text = sg.latex(sg.grad(y, x))
    assert text.count(r"^{\circ 2}") == 6, text  # one 1 - tanh(...)² per level


def test_a_normal_form_is_built_once(monkeypatch):
    """Layer norm's gradient (the corpus problem that was as slow as PyTensor): a result of the
    arithmetic normal form that reads as the same terms is proved normal and not rebuilt to
    check it, and the call's memo tables are gone when simplify returns."""
    y, wrt = load_benchmark("derive_depth").layernorm()
    made, rechecked = set(), []
    normalize, rebuild = algebra.normalize, algebra.rebuild
    current = [None]

    def watched(n):
        current[0] = n
        out = normalize(n)
        if out is not None:
            made.add(out)
        return out

    def counted(t, shp, factor=True):
        if current[0] in made:
            rechecked.append(current[0])
        return rebuild(t, shp, factor)

    with monkeypatch.context() as m:
        m.setattr(algebra, "normalize", watched)
        m.setattr(algebra, "rebuild", counted)
        g = sg.grad(y, wrt)
    # Only a result whose terms the normal form reorders (-(a - b) = b - a) is rebuilt to be
    # checked: before the proof, 11 of layer norm's 13 were.
    assert made and 5 * len(rechecked) <= len(made)
    assert algebra._session is None
    assert all(a is b for a, b in zip(g, sg.grad(y, wrt)))  # the same without the watch
