"""Textbook simplification (issue 11): each rule's form on the issue's examples, and its
soundness: the simplified expression has the original's value at random sizes and values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.testing import random_env, random_sizes

n, m, N, d, c = sg.dims("n m N d c")


def assert_same_value(before, after, seeds=3) -> None:
    """before and after agree numerically at random sizes and values (several draws)."""
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        sizes = random_sizes([before, after], rng)
        env = random_env([before, after], sizes, rng)
        want = np.asarray(sg.evaluate(before, env, sizes), float)
        got = np.asarray(sg.evaluate(after, env, sizes), float)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def simplified(e):
    """simplify(e), checked: same value, and a fixed point."""
    s = sg.simplify(e)
    assert_same_value(e, s)
    assert sg.simplify(s) is s
    return s


# ---- symmetric matrices: Gram matrices and sandwiches are symmetric ---------------------------
A = sg.matrix("A", m, n)
S = sg.matrix("S", n, n, symmetric=True)
K = sg.inv(A.T @ A + sg.eye(n))


@pytest.mark.parametrize("expr,want", [
    (A @ (K + K.T), r"2 A (A^{\top} A + I_{n})^{-1}"),
    ((A @ A.T).T, r"A A^{\top}"),
    ((A @ S.T @ A.T).T + A @ S @ A.T, r"2 A S A^{\top}"),
    (sg.inv(S).T, r"S^{-1}"),
    (sg.outer(sg.vector("x", n), sg.vector("x", n)).T, r"x x^{\top}"),
])
def test_symmetric_expressions_drop_transposes(expr, want):
    assert sg.latex(simplified(expr)) == want


def test_symmetric_sum_with_its_transpose_folds_in_a_gradient():
    g = sg.grad(sg.trace(K), A)
    assert sg.latex(g, inline=True) == r"-2 A (A^{\top} A + I_{n})^{-1} (A^{\top} A + I_{n})^{-1}"
    assert sg.gradcheck(sg.trace(K), A).ok


def test_a_product_that_is_not_symmetric_keeps_its_transpose():
    B = sg.matrix("B", n, n)
    assert sg.latex(simplified((A @ B @ A.T).T)) == r"A B^{\top} A^{\top}"
    assert sg.latex(simplified((B @ B).T)) == r"B^{\top} B^{\top}"


# ---- broadcast factors come out of Hadamard-then-sum -----------------------------------------
X, G = sg.matrix("X", m, n), sg.matrix("G", m, n)
v, cv = sg.vector("v", n), sg.vector("c", m)
col = sg.reshape(cv, (m, 1))


@pytest.mark.parametrize("expr,want", [
    # (X^{∘2} ⊙ 1 vᵀ)ᵀ 1 = ((X^{∘2})ᵀ 1) ⊙ v
    (sg.sum(X ** 2 * v, axis=0), r"v \odot ((X^{\circ 2})^{\top} \mathbf{1}_{m})"),
    ((X ** 2 * (sg.ones(m, 1) @ sg.reshape(v, (1, n)))).T @ sg.ones(m),
     r"v \odot ((X^{\circ 2})^{\top} \mathbf{1}_{m})"),
    # (A ⊙ c 1ᵀ) 1 = (A 1) ⊙ c, and division alike
    (sg.sum(sg.exp(X) * col, axis=1), r"c \odot (\exp(X) \mathbf{1}_{n})"),
    ((G * X / (col ** 2 @ sg.ones(1, n))) @ sg.ones(n),
     r"((G \odot X) \mathbf{1}_{n}) \oslash c^{\circ 2}"),
    (sg.sum(sg.broadcast_to(v, (m, n)), axis=0), r"m v"),
])
def test_broadcast_factor_leaves_the_sum(expr, want):
    assert sg.latex(simplified(expr)) == want


def test_broadcast_factor_in_a_gradient():
    L = sg.sum(G * X / col)
    assert sg.latex(sg.grad(L, cv)) == r"-((G \odot X) \mathbf{1}_{n}) \oslash c^{\circ 2}"


# ---- softmax cross-entropy: P - Y where Y's rows are declared to sum to one ------------------
@pytest.mark.parametrize("labels", ["simplex", "onehot"])
def test_softmax_cross_entropy_reaches_p_minus_y(labels):
    Z, Y = sg.matrix("Z", N, c), sg.matrix("Y", N, c, labels=labels)
    L = -sg.sum(Y * sg.log(sg.softmax(Z, axis=1)))
    assert sg.latex(sg.grad(L, Z)) == r"\operatorname{softmax}_{\mathrm{row}}(Z) - Y"
    assert sg.gradcheck(L, Z).ok  # sampled with rows on the simplex (one-hot rows)
    z, y = sg.vector("z", c), sg.vector("y", c, labels=labels)
    Lv = -y @ sg.log(sg.softmax(z, axis=0))
    assert sg.latex(sg.grad(Lv, z)) == r"\operatorname{softmax}(z) - y"
    assert sg.gradcheck(Lv, z).ok


def test_row_sums_of_declared_labels():
    Y, Q = sg.matrix("Y", N, c, labels="simplex"), sg.matrix("Q", N, c, labels="onehot")
    assert sg.latex(simplified(sg.sum(Y, axis=1))) == r"\mathbf{1}_{N}"
    assert sg.latex(simplified(sg.sum(Y))) == "N"
    assert sg.latex(simplified(sg.sum(Y, axis=0))) == r"Y^{\top} \mathbf{1}_{N}"  # columns: no
    assert sg.latex(simplified(Q * Q * sg.exp(Y))) == r"Q \odot \exp(Y)"  # one-hot: Q ⊙ Q = Q
    assert sg.latex(simplified(Y * Y)) == r"Y^{\circ 2}"  # a simplex is not 0/1


def test_labels_are_declared_in_parsed_shapes():
    e = sg.parse(r"\mathbf{1}^\top Y \mathbf{1}", {"Y": "N×c onehot"})
    assert sg.latex(sg.simplify(e)) == "N"


# ---- logistic: e^{-t} / (1 + e^{-t}) is σ(-t), and σ' cancels to σ(z) - y ----------------------
z, y = sg.vector("z", n), sg.vector("y", n)


@pytest.mark.parametrize("expr,want", [
    (sg.exp(-z) / (1 + sg.exp(-z)), r"1 - \sigma(z)"),  # σ(-z), written without -z
    (1 / (1 + sg.exp(-z)), r"\sigma(z)"),
    (sg.exp(z) / (1 + sg.exp(z)), r"\sigma(z)"),
    (y * sg.exp(-z) / (1 + sg.exp(-z)), r"y \odot (1 - \sigma(z))"),
    (sg.exp(z) ** 2 / (1 + sg.exp(z)) ** 2, r"\sigma(z)^{\circ 2}"),
    (sg.sigmoid(z) * (1 - sg.sigmoid(z)) * ((1 - y) / (1 - sg.sigmoid(z)) - y / sg.sigmoid(z)),
     r"\sigma(z) - y"),
])
def test_logistic_forms(expr, want):
    assert sg.latex(simplified(expr)) == want


def test_logistic_loss_gradient_is_sigma_minus_y():
    X, w, yy = sg.matrix("X", N, d), sg.vector("w", d), sg.vector("y", N)
    p = sg.sigmoid(X @ w)
    L = -sg.sum(yy * sg.log(p) + (1 - yy) * sg.log(1 - p))
    assert sg.latex(sg.grad(L, w)) == r"X^{\top} (\sigma(X w) - y)"
    assert sg.gradcheck(L, w).ok
    L2 = sg.sum(yy * sg.log(1 + sg.exp(-X @ w)) + (1 - yy) * sg.log(1 + sg.exp(X @ w)))
    assert sg.latex(sg.grad(L2, w)) == r"X^{\top} (\sigma(X w) - y)"


def test_cancelling_keeps_what_does_not_shrink():
    q = (z + y) * (z - y)  # no denominator inside a sum cancels: the product stays whole
    assert sg.latex(simplified(q)) == r"(z + y) \odot (z - y)"


# ---- products with I, 1_1 and ⊗ 1 vanish ---------------------------------------------------
def test_units_vanish():
    P = sg.matrix("P", n, n)
    assert sg.latex(simplified(P * (sg.ones(n, 1) @ sg.ones(1, n) @ sg.eye(n)))) == "P"
    assert sg.latex(simplified(sg.kron(P, sg.ones(1, 1)))) == "P"
    assert sg.latex(simplified(sg.kron(sg.eye(1), P))) == "P"


def test_gaussian_hessian_in_the_mean_is_n_sigma_inverse():
    Sig, mu, X = sg.matrix("Sigma", n, n, symmetric=True), sg.vector("mu", n), sg.matrix("X", N, n)
    R = X - mu
    L = 0.5 * sg.sum((R @ sg.inv(Sig)) * R) + 0.5 * N * sg.logdet(Sig)
    assert sg.latex(sg.hessian(L, mu)) == r"N \Sigma^{-1}"
    g = sg.latex(sg.grad(L, Sig), inline=True)
    assert g.startswith(r"\frac{1}{2} (N \Sigma^{-1} - ")  # not 1.0 N


# ---- centering: the column sums of centered data vanish -------------------------------------
Xc, vc = sg.matrix("X", N, d), sg.vector("v", d)
Cc = Xc - sg.mean(Xc, axis=0)  # X - 1 x̄ᵀ


@pytest.mark.parametrize("expr,want", [
    (sg.sum(Cc, axis=0), r"\mathbf{0}_{d}"),
    (sg.sum(Cc @ sg.matrix("B", d, n), axis=0), r"\mathbf{0}_{n}"),
    (sg.sum(Cc @ vc), "0"),
    (sg.sum(Xc - sg.mean(Xc, axis=1, keepdims=True), axis=1), r"\mathbf{0}_{N}"),
    (sg.sum(Xc + 2 * sg.mean(Xc, axis=0), axis=0), r"3 X^{\top} \mathbf{1}_{N}"),
])
def test_centered_sums(expr, want):
    assert sg.latex(simplified(expr)) == want


def test_centered_loss_gradient_is_twice_the_centered_data():
    """∂/∂X ‖X - 1 x̄ᵀ‖² = 2 (X - 1 x̄ᵀ) = 2 (I - (1/N) 1 1ᵀ) X: written as the centered data,
    x̄ = (1/N) Xᵀ 1 (the term -(2/N) 1 1ᵀ (X - 1 x̄ᵀ) of the raw gradient is 0)."""
    L = sg.sum(Cc ** 2)
    g = sg.grad(L, Xc)
    assert sg.latex(g) == (r"2 \left(X - \mathbf{1}_{N} \left(\frac{1}{N} X^{\top} \mathbf{1}_{N}"
                           r"\right)^{\top}\right)")
    assert sg.gradcheck(L, Xc).ok
    L2 = sg.sum((Cc @ vc) ** 2)
    assert sg.latex(sg.grad(L2, Xc)) == (r"2 \left(X - \mathbf{1}_{N} \left(\frac{1}{N} X^{\top} "
                                         r"\mathbf{1}_{N}\right)^{\top}\right) v v^{\top}")
    assert sg.gradcheck(L2, [Xc, vc]).ok


# ---- the rule set together: random expressions built from what the rules above look for ------
_Xr = sg.matrix("X", m, n)
_LEAVES = [sg.vector("p", n), sg.vector("q", n), sg.sum(_Xr, axis=0),
           sg.sum(_Xr - sg.mean(_Xr, axis=0), axis=0), sg.scalar("s")]
_UNARY = [lambda a: -a, sg.sigmoid, lambda a: sg.exp(sg.tanh(a)), lambda a: 1 - sg.sigmoid(a),
          lambda a: 1 + sg.exp(sg.tanh(a)), sg.tanh,
          lambda a: sg.sum(_Xr * a, axis=0) if a.shape == (n,) else a]
_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
           lambda a, b: a / (1 + sg.exp(sg.tanh(b))), lambda a, b: a * (b / (1 + a * a) + 1)]


def _textbook_exprs():
    leaf = st.sampled_from(_LEAVES)
    return st.recursive(leaf, lambda kids: st.one_of(
        st.tuples(st.sampled_from(_UNARY), kids).map(lambda t: t[0](t[1])),
        st.tuples(st.sampled_from(_BINARY), kids, kids).map(lambda t: t[0](t[1], t[2]))),
        max_leaves=8)


def test_rules_together_terminate_and_are_idempotent():
    """(benchmarks/rewrite_cycles.py runs the same check at scale: 5,000 expressions.)"""

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(_textbook_exprs())
    def check(e):
        s = sg.simplify(e)  # no internal error (a rewrite cycle raises one)
        assert sg.simplify(s) is s
        assert_same_value(e, s, seeds=1)
        for g in sg.grad(e if e.ndim == 0 else sg.sum(e), [_LEAVES[0], _Xr]):
            assert sg.simplify(g) is g

    check()
