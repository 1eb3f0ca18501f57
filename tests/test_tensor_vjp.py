"""Tensors of three and four axes, from the registry (Op.tensor_cases, the `tensor_case`
parameter of conftest.py): every op's VJP against central finite differences and
torch.autograd, first and second order, raw and simplified; index-notation printing; generated
code against the reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest
from test_vjp_registry import (
    SIMPLIFY,
    _first_order,
    _second_order,
    _torch_env,
    assert_matches,
    finite_vjp,
    oracle,  # noqa: F401 -- the fixture
)

import symgrad as sg
from symgrad.numeric import evaluate
from symgrad.op import REGISTRY


def test_every_op_of_any_order_has_tensor_cases(library_ops):
    """Arithmetic, elementwise functions, reductions, shape ops and einsum are tested beyond
    matrices; the rest (linear algebra, Kronecker calculus) is matrix-only by its shape rule."""
    matrix_only = {"var", "number", "constant", "ones", "zeros", "eye", "name", "transpose",
                   "matmul", "outer", "trace", "inv", "det", "logdet", "diag", "norm", "kron",
                   "vec", "unvec", "commutation", "cumsum"}
    missing = [n for n in library_ops if n not in matrix_only
               and not (REGISTRY[n].tensor_cases and REGISTRY[n].tensor_cases())]
    assert not missing, f"ops without tensor cases: {missing}"


@SIMPLIFY
def test_tensor_vjp_first_order(tensor_case, simplify):
    case = tensor_case
    env, u, cts = _first_order(case, simplify)
    assert [c.shape for c in cts] == [x.shape for x in case.xs]
    num = finite_vjp(case.y, env[u], case.xs, env)
    for x, s, n in zip(case.xs, evaluate(cts, env), num):
        assert_matches(s, n, f"d<U, y>/d{x.params[0]} of {case.id}")


@SIMPLIFY
def test_tensor_vjp_second_order(tensor_case, simplify):
    case = tensor_case
    env, _, second = _second_order(case, simplify)
    for g, v, hs in second:
        num = finite_vjp(g, env[v], case.xs, env)
        for x, s, n in zip(case.xs, evaluate(hs, env), num):
            assert_matches(s, n, f"d<V, g>/d{x.params[0]} of {case.id}")


@SIMPLIFY
def test_tensor_vjp_vs_torch(tensor_case, simplify, oracle):  # noqa: F811
    case = tensor_case
    env, u, second = _second_order(case, simplify)
    tenv = _torch_env(oracle, env)
    xs = [tenv[x] for x in case.xs]
    yt = oracle.to_torch(case.y, tenv)
    assert_matches(evaluate(case.y, env), oracle.numpy(yt), f"value of {case.id}", 1e-9)
    gts = oracle.grads(oracle.inner(tenv[u], yt), xs, create_graph=True)
    for (g, v, hs), gt in zip(second, gts):
        assert_matches(evaluate(g, env), oracle.numpy(gt), f"VJP of {case.id}", 1e-9)
        ref = oracle.grads(oracle.inner(tenv[v], gt), xs, retain_graph=True)
        for x, s, r in zip(case.xs, evaluate(hs, env), ref):
            assert_matches(s, oracle.numpy(r), f"second order d/d{x.params[0]} of {case.id}",
                           1e-9)


def test_tensor_prints_in_index_notation(tensor_case):
    """Every expression of the cases, and its gradient, prints (index notation beyond
    matrices, with the entry at free indices between brackets)."""
    case = tensor_case
    case.check()
    for e in [case.y, *sg.grad(sg.sum(case.y), list(case.xs))]:
        text, uni = sg.latex(e), str(e)
        assert text and uni
        if e.ndim > 2:
            assert text.startswith(r"\left[") and uni.startswith("[")


def test_tensor_codegen_matches_evaluate(tensor_case):
    case = tensor_case
    case.check()
    g = sg.grad(sg.sum(case.y * case.y), list(case.xs))
    f = sg.lambdify([case.y, *g], list(case.xs))
    env = case.env(case.rng("code"))
    outs = f(*(env[x] for x in case.xs))
    for out, ref in zip(outs, evaluate([case.y, *g], env)):
        np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12)


def test_variables_of_any_order():
    B, n, k = sg.dims("B n k")
    Z = sg.tensor("Z", B, n, k)
    assert Z.shape == (B, n, k) and sg.tensor("W", n, k) is sg.matrix("W", n, k)
    assert sg.ones(2, 3, 4).shape == (2, 3, 4) and sg.tensor("c") is sg.scalar("c")


def test_transpose_reverses_all_axes_as_numpy():
    X = sg.tensor("X", 2, 3, 4)
    W = sg.matrix("W", 2, 3)
    v = sg.vector("v", 3)
    assert X.T.shape == (4, 3, 2) and W.T.op.name == "transpose" and v.T is v
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    np.testing.assert_array_equal(sg.evaluate(X.T, {"X": x}), x.T)
    np.testing.assert_array_equal(sg.evaluate(sg.swapaxes(X, 0, -1), {"X": x}),
                                  np.swapaxes(x, 0, -1))
    assert sg.expand_dims(X, 1).shape == (2, 1, 3, 4)


@pytest.mark.parametrize("build, err, msg", [
    (lambda X, W: sg.transpose(X, (0, 0, 1)), sg.ShapeError, "permutation"),
    (lambda X, W: sg.reshape(X, (5, 5)), sg.ShapeError, "entries"),
    (lambda X, W: sg.einsum("ij,jk->ik", X, W), sg.ShapeError, "names 2 axes"),
    (lambda X, W: sg.einsum("..j,jk->..k", X, W), sg.ShapeError, r"one ellipsis '\.\.\.'"),
    (lambda X, W: X @ sg.matrix("M", 3, 2), sg.ShapeError, "inner sizes"),
    (lambda X, W: sg.sum(X, axis=3), sg.ShapeError, "out of range"),
])
def test_tensor_shape_errors(build, err, msg):
    X, W = sg.tensor("X", 2, 3, 4), sg.matrix("W", 4, 5)
    with pytest.raises(err, match=msg):
        build(X, W)


def test_seed_broadcast_prints_and_differentiates():
    """The founding example: A (2, 3) + B (4, 2, 3); the gradient w.r.t. A sums over axis 0."""
    B, n, k = sg.dims("B n k")
    A, Z = sg.matrix("A", n, k), sg.tensor("Z", B, n, k)
    f = sg.name("f", Z + A)
    assert sg.latex(Z + A) == r"\left[ Z_{ijl} + A_{jl} \right]_{ijl}"
    g = sg.grad(f, A)
    assert g.shape == (n, k)
    G = np.random.default_rng(1).normal(size=(4, 2, 3))
    np.testing.assert_allclose(sg.evaluate(g, {"dL/df": G}), G.sum(axis=0))
    assert r"\sum_{" in sg.latex(g)


def test_no_silent_matrix_formula_for_tensors():
    """broadcast_to / reshape to three axes never print as the matrix they came from."""
    B, n, k = sg.dims("B n k")
    A = sg.matrix("A", n, k)
    assert sg.latex(sg.broadcast_to(A, (B, n, k))) == r"\left[ A_{jl} \right]_{ijl}"
    assert sg.latex(sg.reshape(A, (1, n, k))) == r"\left[ A_{jl} \right]_{1jl}"
    # a sum over the batch of a term that does not vary along it states its range: B copies
    # of A (per-slice notation, symgrad/slices.py)
    assert sg.latex(sg.sum(sg.broadcast_to(A, (B, n, k)), 0)) == r"\sum_{i=1}^{B} A"


def test_tensor_codegen_torch_backend():
    """Generated torch code (permute, einsum, reshape, axis tuples) matches the evaluator."""
    torch = pytest.importorskip("torch")
    B, T, d, h = sg.dims("B T d h")
    X, W, b = sg.tensor("X", B, T, d), sg.matrix("W", d, h), sg.vector("b", h)
    L = sg.sum(sg.softmax(sg.transpose(X @ W + b, (1, 0, 2)), axis=(0, 2))
               * sg.sum(sg.reshape(X @ W, (T, B * h)) ** 2))
    L = L + sg.sum(sg.einsum("btd,dh,bth->b", X, W, sg.tanh(X @ W)))
    gs = sg.grad(L, [W, b, X])
    rng = np.random.default_rng(0)
    env = {"X": rng.normal(size=(2, 3, 4)), "W": rng.normal(size=(4, 5)), "b": rng.normal(size=5)}
    f = sg.lambdify(gs, [X, W, b], backend="torch")
    for out, ref in zip(f(*(torch.tensor(env[k]) for k in "XWb")), sg.evaluate(gs, env)):
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
