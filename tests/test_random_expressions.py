"""Property-based tests over random well-shaped expressions (strategies in tests/strategies.py).

Properties: gradients pass the finite-difference check; simplify() and explicit() preserve
values and simplify() is idempotent (on expressions and on gradients); printing never fails.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    SHAPES,
    balanced_braces,
    expressions,
    numeric_point,
    objectives,
    seeds,
)

import symgrad as sg
from symgrad.grad import vjp
from symgrad.numeric import variables
from symgrad.ops.core import variable

NONSCALAR = [s for s in SHAPES if s]


def assert_same_value(got, want, what: str, context: str) -> None:
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}\n{context}"
    assert np.all(np.isfinite(want)), f"reference value not finite\n{context}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= 1e-9 * scale, f"{what}: max abs error {err:.3e} (scale {scale:.3g})\n{context}"


def show(**exprs) -> str:
    return "\n".join(f"  {k} = {v}   [shape {v.shape}]" for k, v in exprs.items())


# ---- 1. gradients ------------------------------------------------------------------------
@given(objectives(), seeds())
def test_gradcheck_scalar_objective(ey, seed):
    e, y = ey
    xs = variables(y)
    report = sg.gradcheck(y, xs, seed=seed)
    assert report.ok, f"{report}\n{show(e=e, y=y)}"


@given(expressions(st.sampled_from(NONSCALAR)), seeds())
def test_gradcheck_nonscalar(e, seed):
    report = sg.gradcheck(e, variables(e), seed=seed)  # through a random upstream
    assert report.ok, f"{report}\n{show(e=e)}"


# ---- 2. simplify ---------------------------------------------------------------------------
@given(expressions(), seeds())
def test_simplify_preserves_value_and_is_idempotent(e, seed):
    s = sg.simplify(e)
    ctx = show(e=e, simplified=s)
    assert s.shape == e.shape, ctx
    assert sg.simplify(s) is s, f"not idempotent: simplify(s) = {sg.simplify(s)}\n{ctx}"
    sizes, env = numeric_point([e], seed)
    assert_same_value(sg.evaluate(s, env, sizes), sg.evaluate(e, env, sizes), "simplify", ctx)


@given(expressions(), seeds())
def test_simplified_gradients_match_raw(e, seed):
    up = variable("G", *e.shape) if e.ndim else sg.ones()  # a symbolic upstream (or 1)
    xs = variables(e)
    raw = vjp(e, xs, up, simplify=False)
    simp = vjp(e, xs, up, simplify=True)
    sizes, env = numeric_point([e, up], seed)
    for x, r, g in zip(xs, raw, simp):
        ctx = show(e=e, raw_grad=r, simplified_grad=g) + f"\n  w.r.t. {x}"
        assert g.shape == x.shape, ctx
        assert sg.simplify(g) is g, f"not idempotent: {sg.simplify(g)}\n{ctx}"
        assert sg.simplify(r) is g, f"simplify(raw) = {sg.simplify(r)}\n{ctx}"
        assert_same_value(sg.evaluate(g, env, sizes), sg.evaluate(r, env, sizes),
                          f"gradient w.r.t. {x}", ctx)


# ---- 3. explicit ---------------------------------------------------------------------------
@given(expressions(), seeds())
def test_explicit_preserves_value(e, seed):
    x = sg.explicit(e)
    sx = sg.simplify(x)
    ctx = show(e=e, explicit=x, simplified_explicit=sx)
    assert x.shape == e.shape and sx.shape == e.shape, ctx
    sizes, env = numeric_point([e], seed)
    want = sg.evaluate(e, env, sizes)
    assert_same_value(sg.evaluate(x, env, sizes), want, "explicit", ctx)
    assert_same_value(sg.evaluate(sx, env, sizes), want, "simplify(explicit)", ctx)


# ---- 4. printing ---------------------------------------------------------------------------
@given(expressions())
def test_printing_never_fails(e):
    forms = {"e": e, "simplified": sg.simplify(e), "explicit": sg.explicit(e)}
    if e.ndim == 0:
        xs = variables(e)
        forms.update({f"grad_{x.params[0]}": g for x, g in zip(xs, sg.grad(e, xs))})
    for label, f in forms.items():
        tex, text = sg.latex(f), str(f)
        assert isinstance(tex, str) and tex.strip(), f"{label}: empty LaTeX for {f!r}"
        assert isinstance(text, str) and text.strip(), f"{label}: empty text for {tex}"
        assert balanced_braces(tex), f"{label}: unbalanced braces in {tex}\n  ({text})"
        assert f._repr_latex_().startswith("$")
