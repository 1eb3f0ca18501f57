"""sg.check: hand-derived gradients judged right or wrong, with diagnoses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import ci_examples, numeric_point, objectives, seeds

import symgrad as sg
from symgrad.numeric import variables

N, d, n, m, k = sg.dims("N d n m k")
BIAS = "W: n×m, X: m×k, b: n×1"  # batch on columns: f = W X + b
ROWS = "X: N×d, W: d×m, c: m"  # batch on rows: f = X W + c


# ---- must be judged right --------------------------------------------------------------------
@pytest.mark.parametrize("claim,y,wrt,shapes", [
    # the column-sum form of the bias gradient, in both orientations
    (r"\frac{\partial L}{\partial f} \mathbf{1}_k", "f = W X + b", "b", BIAS),
    (r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_{k}",
     "f = W X + b", None, BIAS),
    (r"\left(\frac{\partial L}{\partial f}\right)^{\top} \mathbf{1}_N", "f = X W + c", "c", ROWS),
    (r"\left(\frac{\partial L}{\partial z}\right)^{\top} \mathbf{1}_N", "X W + c", "c", ROWS),
    # ... with M declared as the ones vector
    (r"\frac{\partial L}{\partial b} = \left(\frac{\partial L}{\partial f}\right)^{\top} M",
     "f = X W + b", None, {"X": ("N", "d"), "W": ("d", "m"), "b": ("m",), "M": sg.ones(N)}),
    (r"\left(\frac{\partial L}{\partial f}\right)^{\top} M", "f = X W + b", "b",
     "X: N×d, W: d×m, b: m, M: ones(N)"),
    # Matrix Cookbook (Petersen & Pedersen 2012)
    (r"a", r"a^\top x", "x", "a: n, x: n"),  # eq. (69)
    (r"(A + A^\top) x", r"x^\top A x", "x", "x: n, A: n×n"),  # eq. (81)
    (r"A^\top", r"\operatorname{tr}(A X)", "X", "A: n×n, X: n×n"),  # eq. (100)
    (r"A^\top B^\top", r"\operatorname{tr}(A X B)", "X", "A: n×n, X: n×n, B: n×n"),  # (101)
    (r"X^{-\top}", r"\log\det X", "X", "X: n×n"),  # eq. (57)
    (r"X^{-T}", r"\log|X|", "X", "X: n×n"),
    (r"\det(X) X^{-\top}", r"\det(X)", "X", "X: n×n"),  # eq. (49)
    (r"-X^{-\top} a b^\top X^{-\top}", r"a^\top X^{-1} b", "X", "a: n, b: n, X: n×n"),  # (61)
    (r"2 A^\top (A x - b)", r"\|A x - b\|_2^2", "x", "A: m×n, x: n, b: m"),  # eq. (84)
    (r"a b^\top", r"a^\top X b", "X", "a: n, b: m, X: n×m"),  # eq. (70)
    (r"2 X", r"\|X\|_F^2", "X", "X: n×m"),
])
def test_judged_right(claim, y, wrt, shapes):
    v = sg.check(claim, y, wrt, shapes)
    assert v.ok, str(v)
    assert v.summary.startswith("right") and v.counterexample is None and v.diagnosis is None
    assert v.bindings >= 2 and v.samples >= 2 * v.bindings  # never from a single sample


# ---- must be judged wrong, each with its diagnosis ---------------------------------------------
@pytest.mark.parametrize("claim,y,wrt,shapes,diagnosis", [
    # the often-printed n ∂l/∂z for a broadcast B
    (r"\frac{\partial l}{\partial B} = n \frac{\partial l}{\partial z}", "z = A + B", None,
     "A: n×m, B: 1×m", "true only when the upstream gradient "
     r"\frac{\partial L}{\partial z} is constant along the broadcast axis 0 (length n)"),
    (r"k \frac{\partial L}{\partial f}", "f = W X + b", "b", BIAS,
     "true only when the upstream gradient"),
    (r"\frac{\partial L}{\partial f}", "f = W X + b", "b", BIAS,
     "missing the sum over the broadcast axis 1 (length k)"),
    # a transposed answer in the wrong layout
    (r"x \left(\frac{\partial L}{\partial y}\right)^\top", "y = W x", "W", "W: n×m, x: m",
     "off by a transpose"),
    (r"\mathbf{1}_N^\top \frac{\partial L}{\partial f}", "f = X W + c", "c", ROWS,
     "off by a transpose"),
    (r"A", r"\operatorname{tr}(A X)", "X", "A: n×n, X: n×n", "off by a transpose"),
    # d(xᵀAx)/dx = 2Ax for a non-symmetric A
    (r"2 A x", r"x^\top A x", "x", "x: n, A: n×n", "true only when A is symmetric"),
    # d log det X / dX = X⁻¹: the transpose is missing
    (r"X^{-1}", r"\log\det X", "X", "X: n×n", "off by a transpose"),
    (r"-\frac{\partial L}{\partial f} \mathbf{1}_k", "f = W X + b", "b", BIAS, "wrong sign"),
    (r"k \frac{\partial L}{\partial f} \mathbf{1}_k", "f = W X + b", "b", BIAS,
     "off by a constant factor: the claim is k times the gradient"),
    (r"A^\top x", r"x^\top A x", "x", "x: n, A: n×n", None),
])
def test_judged_wrong(claim, y, wrt, shapes, diagnosis):
    v = sg.check(claim, y, wrt, shapes)
    assert not v.ok and not v
    assert v.summary.startswith("wrong")
    if diagnosis is None:  # nothing cheap explains Aᵀx (half the gradient for symmetric A)
        assert v.diagnoses == [] and "differs from the gradient" in v.summary
    else:
        assert any(diagnosis in dg for dg in v.diagnoses), v.diagnoses
        assert diagnosis in v.summary or diagnosis in v.diagnoses[0]
    ce = v.counterexample
    assert ce is not None and ce.sizes and ce.inputs
    assert len(set(ce.sizes.values())) == len(ce.sizes)  # distinct sizes


def test_wrong_shape_is_named():
    v = sg.check(r"n \frac{\partial l}{\partial z}", "z = A + B", "B", "A: n×m, B: 1×m")
    assert "wrong shape: the claim is n×m, the gradient of B is 1×m" in v.diagnoses
    assert v.counterexample.where is None and v.counterexample.difference == float("inf")


def test_counterexample_holds_the_values():
    v = sg.check(r"X^{-1}", r"\log\det X", "X", "X: n×n")
    ce = v.counterexample
    X = ce.inputs["X"]
    assert np.allclose(ce.true, np.linalg.inv(X).T) and np.allclose(ce.claimed, np.linalg.inv(X))
    assert ce.difference == pytest.approx(np.max(np.abs(ce.claimed - ce.true)))
    assert "largest difference" in str(v)
    json.dumps(v.to_dict())  # serializable


def test_expressions_as_input():
    W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
    b = sg.matrix("b", n, 1)
    f = sg.name("f", W @ X + b)
    G = sg.grad(f, b)
    assert sg.check(G, f, b).ok
    assert sg.check(r"\frac{\partial L}{\partial f} \mathbf{1}_k", f, "b").ok
    assert not sg.check(sg.grad(f, W).T, f, W).ok


def test_claim_dimension_conventions():
    # (n,) and (n, 1) are the same column on paper: not a wrong shape
    assert sg.check(r"\frac{\partial L}{\partial f} \mathbf{1}_k", "f = W X + b", "b", BIAS).ok
    # a row is not a column: the layout is wrong
    v = sg.check(r"\mathbf{1}_k^\top \left(\frac{\partial L}{\partial f}\right)^\top",
                 "f = W X + b", "b", BIAS)
    assert not v.ok


def test_a_row_written_as_a_transposed_vector_is_a_row():
    """x^T C^T of a 1-D x is a row on paper: the gradient of a (1, m) row r, so judged right
    (it was 'off by a transpose': the parser's 1-D result had lost that it was written as a row);
    the column C x stays off by a transpose."""
    right = r"-\frac{1}{m} (\sin(A) \mathbf{1}_{m})^{\top} C^{\top}"
    y = r"-\frac{1}{m} r C \sin(A) \mathbf{1}_m"
    shapes = "r: 1×m, C: m×n, A: n×m"
    assert sg.check(right, y, "r", shapes).ok
    v = sg.check(r"-\frac{1}{m} C \sin(A) \mathbf{1}_{m}", y, "r", shapes)
    assert not v.ok and "off by a transpose" in v.summary


@pytest.mark.parametrize("args,err,match", [
    ((r"a", r"a^\top x", None, "a: n, x: n"), sg.DifferentiationError, "which variable"),
    ((r"a", r"a^\top x", "q", "a: n, x: n"), sg.DifferentiationError, "not a variable"),
    ((r"a +", r"a^\top x", "x", "a: n, x: n"), sg.LatexSyntaxError, "column"),
    ((r"v", r"a^\top x", "x", "a: n, x: n"), sg.UnknownSymbolError, "unknown symbol v"),
])
def test_bad_input(args, err, match):
    with pytest.raises(err, match=match):
        sg.check(*args)


def test_needs_several_bindings():
    with pytest.raises(sg.SymgradError, match="at least 2"):
        sg.check("a", r"a^\top x", "x", "a: n, x: n", bindings=1)


# ---- sound at every scale (issue 10) -------------------------------------------------------------
C, Xs = sg.matrix("C", n, n), sg.matrix("X", n, n)
A2, B2 = sg.matrix("A", n, m), sg.matrix("B", m, m)
x2, z2 = sg.vector("x", m), sg.vector("z", m)
ZERO = B2 @ (x2 + z2) - B2 @ x2 - B2 @ z2  # zero, up to float64 rounding
SCALES = [1e-10, 1e-3, 1.0, 1e10]


@pytest.mark.parametrize("scale", SCALES)
def test_wrong_claims_are_wrong_at_every_scale(scale):
    y = scale * sg.trace(C @ Xs)  # the gradient is scale Cᵀ
    g = sg.grad(y, Xs)
    for wrong in [2 * g, (1 + 1e-6) * g, -g, g.T, 0 * g, g + scale * 1e-5 * C]:
        v = sg.check(wrong, y, Xs)
        assert not v.ok, (scale, str(wrong), v.summary)
    W, X, b, G = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("b", n, 1), \
        sg.matrix("G", n, k)
    yb = scale * sg.sum(G * (W @ X + b))  # the gradient sums over the broadcast axis
    assert not sg.check(scale * G, yb, b).ok  # the sum is missing
    assert not sg.check(scale * k * (G @ sg.ones(k, 1)), yb, b).ok  # k times too large
    assert sg.check(scale * (G @ sg.ones(k, 1)), yb, b).ok


@pytest.mark.parametrize("scale", SCALES)
def test_right_claims_are_right_at_every_scale(scale):
    y = scale * sg.trace(C @ Xs)
    g = sg.grad(y, Xs)
    for right in [g, scale * C.T, (scale * C).T, C.T * scale]:
        v = sg.check(right, y, Xs)
        assert v.ok, (scale, str(right), v.summary)
    # right up to rounding: the claim's own rounding error is a millionth of the gradient
    # at scale 1e-10 (B (x + z) - B x - B z is 0 only in exact arithmetic)
    ys = scale * sg.sum(A2 @ x2)
    gs = sg.grad(ys, x2)
    v = sg.check(gs + ZERO, ys, x2, [A2, B2, x2, z2])
    assert v.ok, v.summary
    assert not sg.check(gs + ZERO + 1e-3 * gs, ys, x2, [A2, B2, x2, z2]).ok


def test_the_rounding_allowance_is_measured_not_assumed():
    # rounding amplified a million times is no longer "right up to rounding" at scale 1e-10
    ys = 1e-10 * sg.sum(A2 @ x2)
    v = sg.check(sg.grad(ys, x2) + 1e6 * ZERO, ys, x2, [A2, B2, x2, z2])
    assert not v.ok
    # a zero gradient: a claim of rounding noise is right, a tiny non-zero claim is not
    yz = sg.sum(A2 @ (x2 + z2) - A2 @ x2 - A2 @ z2)
    assert sg.check(ZERO, yz, z2, [A2, B2, x2, z2]).ok
    assert not sg.check(1e-30 * x2, yz, z2, [A2, B2, x2, z2]).ok


@pytest.mark.parametrize("decl", [
    r"x \in \mathbb{R}^{" + "n" * 40 + "}",
    r"x \in \mathbb{R}^{99999999999}",
    r"x \in \mathbb{R}^{1000000 n}",
])
def test_sizes_too_large_to_sample_are_refused(decl):
    with pytest.raises(sg.SizeError, match="too large to evaluate"):
        sg.check(r"2 x", r"x^\top x, \quad " + decl, "x")


@ci_examples(30)
@given(objectives(), st.sampled_from([1e-10, 1.0, 1e10]), st.data())
def test_verdicts_on_random_gradients_at_every_scale(ey, scale, data):
    """The exact gradient is right; twice, minus and (1 + 1e-6) times it are wrong, unless
    the gradient is zero (then they are the gradient)."""
    _, y = ey
    x = data.draw(st.sampled_from([v for v in variables(y) if v.params[2] != "upstream"]))
    ys = scale * y
    g = sg.grad(ys, x)
    right = sg.check(g, ys, x)
    assert right.ok, right.summary
    sizes, env = numeric_point([ys, g], data.draw(seeds()))
    assume(np.all(np.isfinite(sg.evaluate(g, env, sizes))))
    assume(np.any(sg.evaluate(g, env, sizes) != 0))
    for wrong in (2 * g, -g, (1 + 1e-6) * g):
        v = sg.check(wrong, ys, x)
        assert not v.ok, (sg.latex(wrong), v.summary)
