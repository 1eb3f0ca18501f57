"""Hessians in matrix notation (issue 5): textbook LaTeX, exact symmetry as expressions, central
finite differences of the gradient and torch.func.hessian at random sizes and values, the
second-differential steps, and Hypothesis-generated scalar functions of a vector."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from conftest import load_benchmark
from hypothesis import HealthCheck, assume, given, settings
from strategies import N as XN
from strategies import expressions
from test_jacobian import assert_close, fd_jacobian, point, torch_function, wrt_var

import symgrad as sg
from symgrad.numeric import variables
from symgrad.ops import core

FD_RTOL = 1e-5  # finite differences of a symbolic gradient
TORCH_RTOL = 1e-9
SEEDS = (0, 1)

n, m = sg.dims("n m")
x, c, b = sg.vector("x", n), sg.vector("c", n), sg.vector("b", m)
y = sg.vector("y", n)
A = sg.matrix("A", m, n)  # ‖Ax - b‖², sum exp(Ax)
Aq = sg.matrix("A", n, n)  # xᵀAx
W, w = sg.matrix("W", m, n), sg.vector("w", n)
X, C, D = sg.matrix("X", n, m), sg.matrix("C", n, n), sg.matrix("D", m, m)
S = sg.matrix("S", n, n, symmetric=True)
t = sg.scalar("t")

# Logistic regression: rows of Xd are examples, labels y (any reals, or declared ±1).
Xd, yl = sg.matrix("X", m, n), sg.vector("y", m)
ypm = sg.vector("y", m, labels="pm1")
z, zpm = sg.name("z", yl * (Xd @ w)), sg.name("z", ypm * (Xd @ w))
s = sg.name("s", sg.softmax(x))

# (label, L, wrt, golden LaTeX)
HESSIANS = [
    ("xᵀAx -> A + Aᵀ", x @ Aq @ x, x, r"A + A^{\top}"),
    ("‖Ax - b‖² -> 2AᵀA", sg.norm(A @ x - b) ** 2, x, r"2 A^{\top} A"),
    ("sum exp(Ax) -> Aᵀ diag(exp(Ax)) A", sg.sum(sg.exp(A @ x)), x,
     r"A^{\top} \operatorname{diag}(\exp(A x)) A"),
    ("logistic loss, y kept", sg.sum(sg.log(1 + sg.exp(-z))), w,
     r"X^{\top} \operatorname{diag}(y^{\circ 2} \odot \sigma(z) \odot (1 - \sigma(z))) X"),
    ("logistic loss, ±1 labels", sg.sum(sg.log(1 + sg.exp(-zpm))), w,
     r"X^{\top} \operatorname{diag}(\sigma(z) \odot (1 - \sigma(z))) X"),
    ("logistic loss, unnamed", sg.sum(sg.log(1 + sg.exp(-ypm * (Xd @ w)))), w,
     r"X^{\top} \operatorname{diag}(\sigma(y \odot (X w)) \odot (1 - \sigma(y \odot (X w)))) X"),
    ("cross-entropy of softmax", -sg.sum(y * sg.log(s)), x,
     r"(\mathbf{1}_{n}^{\top} y) (\operatorname{diag}(s) - s s^{\top})"),
    ("tr(XᵀCX) w.r.t. vec X -> I ⊗ (C + Cᵀ)", sg.trace(X.T @ C @ X), sg.vec(X),
     r"I_{m} \otimes (C + C^{\top})"),
]

# More Hessians, checked numerically (and for symmetry of their value).
MORE = [
    ("sum tanh(Wx + b)", sg.sum(sg.tanh(W @ x + b)), x),
    ("logsumexp(Ax)", sg.logsumexp(A @ x), x),
    ("‖x‖", sg.norm(x), x),
    ("(xᵀx) sum sin(x)", (x @ x) * sg.sum(sg.sin(x)), x),
    ("(cᵀx)(yᵀx) via outer", c @ sg.outer(x, x) @ y, x),
    ("diag of outer", sg.sum(sg.diag(sg.outer(x, x)) * c), x),
    ("kron of vectors", sg.sum(sg.kron(x, sg.tanh(x)) * sg.vector("d", n * n)), x),
    ("softplus(Xw) mean", sg.mean(sg.softplus(Xd @ w)), w),
    ("ridge", sg.norm(Xd @ w - b) ** 2 + 3 * (w @ w), w),
    ("scalar t", sg.sin(t) * t ** 3, t),
    ("logdet X w.r.t. vec X", sg.logdet(C), sg.vec(C)),
    ("tr(Xᵀ C X D) w.r.t. vec X", sg.trace(X.T @ C @ X @ D), sg.vec(X)),
    ("sum exp(X) w.r.t. vec X", sg.sum(sg.exp(X)), sg.vec(X)),
    ("symmetric: tr(S³)", sg.trace(S @ S @ S), sg.vec(S)),
    ("symmetric: logdet S", sg.logdet(S), sg.vec(S)),
    ("symmetric: xᵀS⁻¹x", x @ sg.inv(S) @ x, sg.vec(S)),
]

ALL = [(label, L, wrt) for label, L, wrt, _ in HESSIANS] + MORE
IDS = [h[0] for h in ALL]


@pytest.fixture
def oracle():
    pytest.importorskip("torch")
    import torch_oracle

    return torch_oracle


def fd_hessian(L, wrt, env, sizes):
    """Central differences of the (unsimplified) gradient, in vec form for a matrix."""
    v = wrt_var(wrt)
    g = sg.grad(L, v, simplify=False)
    return fd_jacobian(sg.vec(g) if v.ndim == 2 else g, wrt, env, sizes)


@pytest.mark.parametrize("label,L,wrt,golden", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_textbook_form(label, L, wrt, golden):
    assert sg.latex(sg.hessian(L, wrt)) == golden


@pytest.mark.parametrize("label,L,wrt,golden", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_symmetric_as_an_expression(label, L, wrt, golden):
    H = sg.hessian(L, wrt)
    assert sg.simplify(H.T) is H
    assert sg.simplify(H) is H


@pytest.mark.parametrize("label,L,wrt", ALL, ids=IDS)
def test_matches_finite_differences(label, L, wrt):
    H = sg.hessian(L, wrt)
    for seed in SEEDS:
        sizes, env = point([L, H], seed)
        hv = sg.evaluate(H, env, sizes)
        assert_close(hv, fd_hessian(L, wrt, env, sizes), f"{label} (seed {seed}): {H}", FD_RTOL)
        assert_close(hv, np.swapaxes(hv, -1, -2) if hv.ndim == 2 else hv, "symmetric value",
                     1e-12)


@pytest.mark.parametrize("label,L,wrt", ALL, ids=IDS)
def test_matches_torch_hessian(label, L, wrt, oracle):
    import torch

    H = sg.hessian(L, wrt)
    v = wrt_var(wrt)
    for seed in SEEDS:
        sizes, env = point([L, H], seed)
        f, x0 = torch_function(oracle, L, wrt, env, sizes)
        if core.is_symmetric(v):  # a function of symmetric matrices: f(sym(X))
            k = int(sympy.sympify(v.shape[0]).subs(sizes))

            def f(xt, f=f, k=k):
                mat = xt.reshape(k, k)
                return f(((mat + mat.T) / 2).T.reshape(-1))

        ref = torch.func.hessian(f)(x0)
        assert_close(sg.evaluate(H, env, sizes), oracle.numpy(ref), f"{label} vs torch: {H}",
                     TORCH_RTOL)


def test_more_hessians_symmetric_as_expressions():
    """Beyond the textbook set: most results are fixed points of transposition too."""
    fixed = [label for label, L, wrt in MORE
             if sg.simplify((H := sg.hessian(L, wrt)).T) is H]
    assert len(fixed) >= len(MORE) - 4, f"only {fixed}"


def test_unsimplified_hessian_has_the_same_value():
    L = sg.sum(sg.log(1 + sg.exp(-z)))
    raw, simp = sg.hessian(L, w, simplify=False), sg.hessian(L, w)
    sizes, env = point([raw, simp], 2)
    assert_close(sg.evaluate(raw, env, sizes), sg.evaluate(simp, env, sizes), "raw vs simplified")


def test_hessian_errors():
    with pytest.raises(sg.ShapeError, match="scalar"):
        sg.hessian(A @ x, x)
    assert sg.hessian(sg.trace(X.T @ X), X).shape == X.shape + X.shape  # 4 axes, no refusal
    with pytest.raises(sg.DifferentiationError):
        sg.hessian(x @ x, 2 * x)


# ---- the second-differential steps (sg.derive(..., order=2)) ----------------------------------
@pytest.mark.parametrize("L,wrt", [(x @ Aq @ x, x), (sg.sum(sg.exp(A @ x)), x),
                                   (sg.trace(X.T @ C @ X), sg.vec(X)), (sg.sin(t) * t, t)])
def test_second_differential_steps(L, wrt):
    d = sg.derive(L, wrt, order=2)
    name = wrt_var(wrt).params[0]
    assert [s.kind for s in d.steps] == ["gradient", "differential", "second", "hessian"]
    text = str(d)
    assert f"∂L/∂{name} = " in text and "dL = " in text and "d²L = " in text
    gradient, first, second, _ = d.steps
    H = d.result[wrt_var(wrt)]
    assert H is sg.hessian(L, wrt)
    dx = next(v for v in variables([second.equations[0].rhs]) if v.params[0].startswith("d"))
    sizes, env = point([L, H, dx], 4)
    dvec = np.asarray(env[dx]).reshape(-1, order="F")
    quad = float(dvec @ np.atleast_2d(sg.evaluate(H, env, sizes)) @ dvec)
    for eq in second.equations:  # every form of d²L is dxᵀ H dx
        assert abs(float(sg.evaluate(eq.rhs, env, sizes)) - quad) <= 1e-9 * max(1, abs(quad))
    g = sg.evaluate(gradient.equations[0].rhs, env, sizes).reshape(-1, order="F")
    dL = float(sg.evaluate(first.equations[0].rhs, env, sizes))
    assert abs(dL - g @ dvec) < 1e-9 * max(1, abs(quad))
    assert all(s.prose for s in d.steps) and all(d.lines())


def test_steps_print_the_textbook_quadratic_form():
    d = sg.derive(x @ Aq @ x, x, order=2)
    assert d.lines()[2] == r"d^2 L = dx^{\top} (A + A^{\top}) dx"
    assert sg.latex(d.result[x]) == r"A + A^{\top}"


# ---- Hypothesis: random scalar functions of a vector x -----------------------------------------
XV = sg.vector("x", XN)  # the strategies' vector leaf of shape (n,)


@settings(max_examples=30, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(shape=(), max_depth=3))
def test_random_hessians_match_finite_differences(e):
    assume(XV in variables([e]))
    H = sg.hessian(e, XV)
    assert H.shape == (XN, XN)
    sizes, env = point([e, H], 0)
    assume(np.isfinite(float(sg.evaluate(e, env, sizes))))
    hv = sg.evaluate(H, env, sizes)
    assert_close(hv, fd_hessian(e, XV, env, sizes), f"e = {e}\nH = {H}", FD_RTOL)


# ---- the figures script keeps working, and every result is no larger than the textbook form ----
def test_hessian_figures_targets():
    rows = load_benchmark("hessian_figures").main(["--repeats", "1"])
    assert len(rows) == 14
    for r in rows:
        assert r["same_value"], r["label"]
        assert r["no_larger"], (r["label"], r["nodes"], r["textbook_nodes"], r["chars"],
                                r["textbook_chars"])
