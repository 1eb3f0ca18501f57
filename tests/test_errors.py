"""Bad input raises a symgrad error that says what was wrong and where."""

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.ops.core import variable

n, m, k = sg.dims("n m k")
W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)


def test_shape_mismatch_names_both_operands():
    b = sg.matrix("b", m, 1)
    with pytest.raises(sg.ShapeError, match=r"W X \(shape \(n, k\)\) and b \(shape \(m, 1\)\)"):
        W @ X + b
    with pytest.raises(sg.ShapeError, match="inner sizes m and n differ"):
        W @ W
    with pytest.raises(sg.ShapeError, match=r"matmul needs vectors or matrices"):
        sg.scalar("s") @ W


@pytest.mark.parametrize("size", [-1, 0, 2.5, True, "1a", None])
def test_bad_sizes(size):
    with pytest.raises(sg.SizeError):
        sg.matrix("A", size, 2)


def test_symbolic_size_that_is_not_a_positive_integer():
    with pytest.raises(sg.SizeError, match="positive integer"):
        sg.vector("v", sympy.Symbol("t"))
    with pytest.raises(sg.SizeError):
        sg.dims("1a")


@pytest.mark.parametrize("build,err,msg", [
    (lambda: sg.trace(W), sg.ShapeError, "square"),
    (lambda: sg.inv(W), sg.ShapeError, "square"),
    (lambda: sg.det(W), sg.ShapeError, "square"),
    (lambda: sg.diag(W), sg.ShapeError, "square"),
    (lambda: sg.sum(W, axis=3), sg.ShapeError, "axis 3 is out of range"),
    (lambda: sg.sum(W, axis=(0, 0)), sg.ShapeError, "repeated axis"),
    (lambda: sg.softmax(sg.scalar("s")), sg.ShapeError, "scalar"),
    (lambda: sg.norm(sg.scalar("s")), sg.ShapeError, "abs"),
    (lambda: sg.outer(W, W), sg.ShapeError, "1-D"),
    (lambda: variable("T", 2, 2, 2), sg.UnsupportedError, "matrices"),
    (lambda: sg.ones(2, 2, 2), sg.UnsupportedError, "matrices"),
    (lambda: W + np.ones((2, 2)), sg.UnsupportedError, "NumPy arrays"),
    (lambda: W + "a", sg.SymgradError, "cannot use str"),
    (lambda: W * None, sg.SymgradError, "NoneType"),
    (lambda: W * True, sg.SymgradError, "bool"),
    (lambda: W * float("nan"), sg.SymgradError, "not finite"),
    (lambda: W * 1j, sg.UnsupportedError, "reals"),
    (lambda: bool(W), sg.ExpressionTypeError, "truth value"),
    (lambda: list(W), sg.ExpressionTypeError, "iterable"),
    (lambda: sg.name(3, W), sg.SymgradError, "name"),
    (lambda: sg.matrix("", 2, 2), sg.SymgradError, "name"),
    (lambda: sg.elementwise("f", sympy.Symbol("x") * sympy.Symbol("y"), W), sg.SymgradError,
     "one argument"),
    (lambda: sg.elementwise("exp", sympy.Symbol("x") ** 2, W), sg.SymgradError, "already"),
    (lambda: sg.elementwise("1f", sympy.Symbol("x"), W), sg.SymgradError, "identifier"),
])
def test_bad_construction(build, err, msg):
    with pytest.raises(err, match=msg):
        build()


def test_differentiation_errors():
    with pytest.raises(sg.DifferentiationError, match="variable"):
        sg.grad(sg.sum(W), W @ X)
    with pytest.raises(sg.DifferentiationError, match="variable"):
        sg.grad(sg.sum(W), 3)
    with pytest.raises(sg.ShapeError, match="upstream gradient"):
        sg.grad(W @ X, W, upstream=W)
    up = sg.grad(W @ X, W)  # a non-scalar objective gets a symbolic upstream by default
    with pytest.raises(sg.DifferentiationError, match="upstream"):
        sg.grad(sg.sum(up), next(v for v in sg.numeric.variables(up) if "dL" in v.params[0]))


def test_evaluate_errors():
    with pytest.raises(sg.EvaluationError, match="no value given for X"):
        sg.evaluate(W @ X, {"W": np.ones((2, 3))})
    with pytest.raises(sg.EvaluationError, match="size m is 3 elsewhere but 4 in X"):
        sg.evaluate(W @ X, {"W": np.ones((2, 3)), "X": np.ones((4, 5))})
    with pytest.raises(sg.EvaluationError, match="2 axes"):
        sg.evaluate(W, {"W": np.ones(3)})
    with pytest.raises(sg.EvaluationError, match="not fixed by any array"):
        sg.evaluate(sg.ones(n), {})
    with pytest.raises(sg.EvaluationError, match="not a numeric array"):
        sg.evaluate(W, {"W": "abc"})
    assert sg.evaluate(sg.ones(n), {}, sizes={"n": 3}).shape == (3,)


def test_scalar_latex_without_latex2sympy2(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake(name, *a, **kw):
        if name.startswith("latex2sympy2"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(sg.UnsupportedError, match="latex2sympy2"):
        sg.elementwise("g_nolatex", r"\log(1 + e^{x})", W)
