"""Bad input raises a symgrad error that says what was wrong and where."""

import re
import sys
import time

import numpy as np
import pytest
import sympy

import symgrad as sg

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


# ---- Python conventions at the API edge ---------------------------------------------------------
def test_dims_follows_sympy_symbols():
    one = sg.dims("n")
    assert isinstance(one, sympy.Symbol) and one == sympy.Symbol("n", positive=True, integer=True)
    assert sg.dims("n m") == (n, m) and sg.dims("n,") == (n,)
    assert sg.dims("n,m") == (n, m)
    with pytest.raises(sg.SizeError, match="separated by spaces"):
        sg.dims(" ")


@pytest.mark.parametrize("size", [[2, 3], (2, 3), np.array([2, 3]), {"n": 2}])
def test_a_list_is_not_a_size(size):
    with pytest.raises(sg.SizeError, match="pass each size as its own argument"):
        sg.matrix("A", size, 4)
    assert sg.matrix("A", np.int64(2), 4).shape == (2, 4)  # NumPy integers are sizes


@pytest.mark.parametrize("kw", [{"eps": 0}, {"eps": -1e-6}, {"eps": float("nan")},
                                {"eps": True}, {"eps": "1e-6"}, {"tol": 0}, {"tol": -1.0}])
def test_gradcheck_steps_and_tolerances_must_be_positive(kw):
    x = sg.vector("x", n)
    with pytest.raises(sg.EvaluationError, match="must be a positive number"):
        sg.gradcheck(x @ x, x, **kw)


@pytest.mark.parametrize("backend,package", [("torch", "torch==2.13.0"), ("jax", "jax")])
def test_lambdify_without_its_backend_says_what_to_install(backend, package, monkeypatch):
    x = sg.vector("x", n)
    monkeypatch.setitem(sys.modules, backend, None)  # import torch / jax fails
    with pytest.raises(sg.ToolError, match=rf"pip install {re.escape(package)}"):
        sg.lambdify(sg.exp(x), [x], backend=backend)
    assert f"import {backend}" in sg.codegen(sg.exp(x), [x], backend=backend)  # text: no need


def test_save_to_an_unwritable_path(tmp_path):
    x = sg.vector("x", n)
    d = sg.derive(x @ x, x)
    with pytest.raises(sg.SymgradError, match="cannot write .*existing, writable directory"):
        d.save(tmp_path / "missing" / "d.tex")
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(sg.SymgradError, match="cannot write"):
        d.save(tmp_path / "dir.md")
    assert d.save(tmp_path / "d.md").read_text().strip()


def test_sizes_too_large_are_refused_before_allocating():
    x = sg.vector("x", n)
    start = time.perf_counter()
    with pytest.raises(sg.SizeError, match="entries .* evaluate at smaller sizes"):
        sg.evaluate(sg.outer(x, x), {"x": np.ones(10**6)})  # 10¹² entries, 8 TB
    with pytest.raises(sg.SizeError, match="more than this machine can hold"):
        sg.evaluate(sg.ones(n, n), {}, sizes={"n": 10**8})
    with pytest.raises(sg.SizeError, match="more than this machine can hold"):
        sg.gradcheck(sg.sum(sg.outer(x, x)), x, sizes={"n": 10**7})
    assert time.perf_counter() - start < 5
    with pytest.raises(sg.SizeError):
        sg.evaluate(sg.ones(n), {}, sizes={"n": 2.5})
    assert sg.evaluate(sg.ones(n), {}, sizes={"n": 3.0}).shape == (3,)


@pytest.mark.parametrize("call,match", [
    (lambda y, x: sg.evaluate(y, [1.0, 2.0]), "env must map variables"),
    (lambda y, x: sg.evaluate(y, None), "no value given for x"),
    (lambda y, x: sg.gradcheck(y, x, env=[1.0]), "env must map variables"),
    (lambda y, x: sg.gradcheck(y, x, seed="a"), "seed must be an integer"),
    (lambda y, x: sg.check("2 x", y, x, seed="a"), "integers"),
    (lambda y, x: sg.check("2 x", y, x, bindings="3"), "integers"),
    (lambda y, x: sg.check("2 x", y, x, rtol=0), "relative tolerance"),
    (lambda y, x: sg.derive(y, x).save(None), "file path"),
])
def test_argument_types_at_the_edge(call, match):
    x = sg.vector("x", n)
    with pytest.raises(sg.SymgradError, match=match):
        call(x @ x, x)
