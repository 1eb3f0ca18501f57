"""Generated code (sg.codegen / sg.lambdify) agrees with sg.evaluate, the reference semantics.

Checked for every backend installed (NumPy always; torch and JAX skip when missing): every
op's registry cases with their vector-Jacobian products, the Matrix Cookbook cases, the
expressions of every example script, and hypothesis-generated expressions and gradients.
The expert forms the issue asks for are checked on the source text (test_codegen_forms.py).
"""

from __future__ import annotations

import pathlib
import runpy

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import expressions, numeric_point, objectives, seeds
from test_cookbook import CASES as COOKBOOK

import symgrad as sg
from symgrad.grad import vjp
from symgrad.node import Node
from symgrad.numeric import evaluate, variables
from symgrad.ops.core import variable
from symgrad.testing import random_env, random_sizes

RTOL = 1e-9  # relative to the largest reference entry (at least 1): float64 rounding only
BACKENDS = ["numpy", "torch", "jax"]


def require(backend: str) -> None:
    """Skip unless the backend's library is installed (JAX in float64, as the reference)."""
    if backend == "torch":
        pytest.importorskip("torch")
    elif backend == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)


def available() -> list[str]:
    out = []
    for b in BACKENDS:
        try:
            require(b)
        except pytest.skip.Exception:
            continue
        out.append(b)
    return out


def as_numpy(v) -> np.ndarray:
    if hasattr(v, "detach"):  # torch
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=float)


def assert_agrees(exprs, args, env, backend: str, what: str = "") -> None:
    """The generated function's outputs equal evaluate()'s, to float64 rounding."""
    want = evaluate(exprs, env)
    f = sg.lambdify(exprs, args, backend=backend)
    got = f(*[env[a] for a in args])
    for i, (g, w) in enumerate(zip(got, want)):
        g = as_numpy(g)
        ctx = f"{what}\noutput {i} = {exprs[i]}\n{f.source}"
        assert g.shape == w.shape, f"shape {g.shape}, expected {w.shape}\n{ctx}"
        assert np.all(np.isfinite(w)), f"reference not finite\n{ctx}"
        scale = max(1.0, float(np.max(np.abs(w), initial=0.0)))
        err = float(np.max(np.abs(g - w), initial=0.0))
        assert err <= RTOL * scale, f"max error {err:.3e} (scale {scale:.3g})\n{ctx}"


def random_point(exprs, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    sizes = random_sizes(exprs, rng)
    return random_env(exprs, sizes, rng)


# ---- every op's registry cases, value and VJP ------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_registry_case(registry_case, backend):
    require(backend)
    case = registry_case
    case.check()
    rng = case.rng("codegen")
    env = case.env(rng)
    u = variable("U", *case.y.shape)
    env[u] = rng.normal(size=case.y.shape)
    raw = vjp(case.y, list(case.xs), u, simplify=False)  # sum_to, broadcast_to, ... all there
    simplified = vjp(case.y, list(case.xs), u)
    args = [*case.xs, u]
    assert_agrees([case.y, *raw, *simplified], args, env, backend, case.id)


# ---- Matrix Cookbook ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cite,y,v,golden", COOKBOOK, ids=[c[0] for c in COOKBOOK])
def test_cookbook(cite, y, v, golden, backend):
    require(backend)
    exprs = [y, sg.grad(y, v)]
    args = variables(exprs)
    for seed in range(2):
        assert_agrees(exprs, args, random_point(exprs, seed), backend, cite)


# ---- the examples --------------------------------------------------------------------------------
EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


def _example_exprs(path) -> list[Node]:
    """Every expression an example script leaves in its namespace (lists of them too)."""
    ns = runpy.run_path(str(path), run_name="symgrad_example")
    out: list[Node] = []
    for v in ns.values():
        items = v if isinstance(v, (list, tuple)) else [v]
        out += [x for x in items if isinstance(x, Node) and x.op.name != "var"]
    return list(dict.fromkeys(out))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples(path, capsys):
    exprs = _example_exprs(path)
    capsys.readouterr()
    assert exprs, f"{path.name} defines no expressions"
    args = variables(exprs)
    env = random_point(exprs)
    for backend in available():
        assert_agrees(exprs, args, env, backend, path.name)


# ---- hypothesis: random expressions and their gradients ------------------------------------------
# JAX compiles every op for every new shape (~0.3 s an example): it gets fewer examples.
HYPOTHESIS_BACKENDS = [("numpy", 50), ("torch", 50), ("jax", 8)]


@pytest.mark.parametrize("backend,examples", HYPOTHESIS_BACKENDS, ids=[b for b, _ in
                                                                      HYPOTHESIS_BACKENDS])
def test_random_expressions(backend, examples):
    require(backend)

    @settings(max_examples=examples)
    @given(expressions(), seeds())
    def check(e, seed):
        sizes, env = numeric_point([e], seed)
        if np.all(np.isfinite(evaluate(e, env, sizes))):  # else outside the domain (rare)
            assert_agrees([e], variables(e), env, backend, f"e = {e}")

    check()


@pytest.mark.parametrize("backend,examples", HYPOTHESIS_BACKENDS, ids=[b for b, _ in
                                                                      HYPOTHESIS_BACKENDS])
def test_random_gradients(backend, examples):
    """Raw gradients (every sum_to and broadcast_to kept) and simplified ones."""
    require(backend)

    @settings(max_examples=examples)
    @given(objectives(max_depth=3), seeds())
    def check(ey, seed):
        e, y = ey
        xs = variables(y)
        exprs = [y, *vjp(y, xs, sg.ones(), simplify=False)]
        sizes, env = numeric_point(exprs, seed)
        if all(np.all(np.isfinite(v)) for v in evaluate(exprs, env, sizes)):
            assert_agrees(exprs, xs, env, backend, f"y = {y}")

    check()


# ---- numerical stability -------------------------------------------------------------------------
N, C = sg.dims("N C")
Z, Yl = sg.matrix("Z", N, C), sg.matrix("Y", N, C)
CROSS_ENTROPY = {
    "log-softmax": -sg.sum(Yl * sg.log(sg.softmax(Z, axis=1))),
    "logsumexp": sg.sum(Yl * (sg.logsumexp(Z, axis=1, keepdims=True) - Z)),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", CROSS_ENTROPY)
def test_cross_entropy_with_large_logits(form, backend):
    require(backend)
    L = CROSS_ENTROPY[form]
    f = sg.lambdify([L, sg.grad(L, Z)], [Z, Yl], backend=backend)
    rng = np.random.default_rng(1)
    z = 1e3 * rng.normal(size=(6, 5))
    y = np.eye(5)[rng.integers(0, 5, 6)]
    value, grad = (as_numpy(v) for v in f(z, y))
    # Exact in float64: the loss is the gap to each row's max; the gradient is p - y with p
    # one-hot at the max (the other entries are below e^-700, zero in float64).
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    assert np.isclose(value, np.sum(y * (lse - z)), rtol=1e-12)
    assert np.allclose(grad, p - y, atol=1e-12)
