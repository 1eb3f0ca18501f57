"""SymPy interop: to_sympy and from_sympy keep the value, checked against SymPy's own
evaluation of the matrix expression at random sizes and values."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from strategies import ci_examples, expressions, numeric_point, seeds
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import symgrad as sg
from symgrad.numeric import variables
from symgrad.testing import random_env, random_sizes

n, m, k = sg.dims("n m k")
W, X, A = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("A", n, n)
b, r = sg.matrix("b", n, 1), sg.matrix("r", 1, m)
x, y, u = sg.vector("x", n), sg.vector("y", n), sg.vector("u", m)
s = sg.scalar("s")


# ---- SymPy's value of a matrix expression (the oracle) --------------------------------------
def _explicit(e):
    """SymPy evaluates bottom-up; two nodes whose doit() leaves explicit matrices unevaluated
    (HadamardPower, DiagonalOf, DiagMatrix) are applied entrywise here."""
    if not e.args or isinstance(e, (sp.Lambda, sp.MatrixBase)):
        return e
    args = [_explicit(a) for a in e.args]
    if isinstance(e, sp.HadamardPower):
        return args[0].applyfunc(lambda t: t ** args[1])
    if isinstance(e, sp.DiagonalOf):
        return sp.ImmutableMatrix(args[0].diagonal()).T
    if isinstance(e, sp.DiagMatrix):
        return sp.ImmutableMatrix(sp.diag(*args[0]))
    out = e.func(*args).doit()
    return out.as_explicit() if isinstance(out, sp.MatrixExpr) else out


def sympy_value(e, sizes: dict, env: dict):
    """The value of a SymPy expression with sizes and variables (by name) bound."""
    e = sp.sympify(e).xreplace({sp.Symbol(str(kk)) if isinstance(kk, str) else kk: sp.Integer(v)
                                for kk, v in sizes.items()})
    rep = {}
    for ms in e.atoms(sp.MatrixSymbol):
        rep[ms] = sp.ImmutableMatrix(np.reshape(env[ms.name], (int(ms.rows), int(ms.cols))))
    for sym in e.free_symbols:
        if isinstance(sym, sp.Symbol) and sym.name in env:
            rep[sym] = sp.Float(float(env[sym.name]))
    v = _explicit(e.xreplace(rep))
    if isinstance(v, (sp.MatrixBase, sp.MatrixExpr)):
        return np.array(v.evalf().tolist(), dtype=float)
    return float(v.evalf())


def point(e, seed=0):
    rng = np.random.default_rng(seed)
    sizes = random_sizes([e], rng)
    env = random_env([e], sizes, rng)
    return sizes, {v.params[0]: val for v, val in env.items()}


def same(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.size == b.size, (a.shape, b.shape)
    np.testing.assert_allclose(a.reshape(b.shape), b, rtol=1e-8, atol=1e-10)


def assert_round_trip(e, seed=0):
    """SymPy's value of to_sympy(e), and symgrad's of from_sympy(to_sympy(e)), are e's value
    (a 1-D vector is the column of SymPy's n×1 matrix)."""
    sizes, env = point(e, seed)
    want = sg.evaluate(e, env, sizes)
    se = sg.to_sympy(e)
    same(sympy_value(se, sizes, env), want)
    back = sg.from_sympy(se, variables=variables(e))
    same(sg.evaluate(back, env, sizes), want)
    columns = {kk: np.reshape(v, (-1, 1)) if np.ndim(v) == 1 else v for kk, v in env.items()}
    same(sg.evaluate(sg.from_sympy(se), columns, sizes), want)  # without variables=: (n, 1) columns


# ---- symgrad -> SymPy -> symgrad, one operator at a time -------------------------------------
CASES = {
    "matmul, broadcast bias": W @ X + b,
    "row broadcast": W + r,
    "1-D broadcast": W + u,
    "scalar broadcast": s * W + 1,
    "quadratic form": x @ A @ x,
    "row times matrix": x @ W,
    "inner product": x @ y,
    "outer": sg.outer(x, y),
    "transpose": W.T @ A,
    "inv": sg.inv(A) @ W,
    "trace": sg.trace(A @ A.T),
    "det": sg.det(A),
    "logdet": sg.logdet(A),
    "hadamard": W * W.T.T - W / (1 + W * W),
    "scalar over array": 2 / (1 + x * x),
    "power": W ** 3,
    "scalar power": s ** 2 + sg.exp(s),
    "sum all": sg.sum(W),
    "sum rows": sg.sum(W, axis=1),
    "sum columns keepdims": sg.sum(W, axis=0, keepdims=True),
    "mean": sg.mean(W, axis=0),
    "sum of vector": sg.sum(x),
    "logsumexp": sg.logsumexp(W, axis=1),
    "softmax": sg.softmax(W, axis=0),
    "norm": sg.norm(W) + sg.norm(x),
    "diag of vector": sg.diag(x) @ A,
    "diag of matrix": sg.diag(A),
    "elementwise": sg.tanh(W) + sg.sigmoid(W) + sg.sin(W) * sg.cos(W) - sg.softplus(W),
    "log sqrt abs": sg.log(1 + W * W) + sg.sqrt(sg.exp(W)) + sg.abs(W),
    "relu": sg.relu(W),
    "user elementwise": sg.elementwise("cube_plus", sp.Symbol("t") ** 3 + 1, W),
    "eye zeros ones": A + sg.eye(n) + sg.zeros(n, n) + sg.ones(n, n),
    "kron": sg.kron(A, W),
    "kron of vectors": sg.kron(x, u),
    "broadcast_to": sg.broadcast_to(b, (n, m)),
    "sum_to": sg.sum_to(W, (n, 1)),
    "reshape": sg.reshape(x, (1, n)) @ A,
    "named": sg.name("f", W @ X + b) * 2,
    "gradient": sg.grad(sg.sum(sg.tanh(W @ X + b)), W),
    "gradient with upstream": sg.grad(sg.name("f", W @ X + b), b),
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip(name):
    assert_round_trip(CASES[name])


def test_founding_example_in_sympy():
    e = sg.to_sympy(W @ X + b)
    assert e == W_s * X_s + b_s * sp.OneMatrix(1, k)  # the broadcast is b 1ₖᵀ


W_s, X_s, b_s = sp.MatrixSymbol("W", n, m), sp.MatrixSymbol("X", m, k), sp.MatrixSymbol("b", n, 1)


def test_sizes_are_the_same_symbols():
    # equal with the same assumptions (SymPy's symbol cache is an LRU: identity is not promised)
    e = sg.to_sympy(W)
    assert tuple(e.shape) == (n, m)
    assert e.shape[0].assumptions0 == n.assumptions0
    back = sg.from_sympy(e).shape
    assert back == (n, m) and back[0].assumptions0 == n.assumptions0


def test_vectors_are_columns_and_scalars_are_scalars():
    assert sg.to_sympy(x) == sp.MatrixSymbol("x", n, 1)
    assert sg.to_sympy(x @ A @ x) == sp.Trace(sp.MatrixSymbol("x", n, 1).T
                                               * sp.MatrixSymbol("A", n, n)
                                               * sp.MatrixSymbol("x", n, 1))
    assert sg.to_sympy(s) == sp.Symbol("s", real=True)
    assert sg.to_sympy(sg.logdet(A)) == sp.log(sp.Determinant(sp.MatrixSymbol("A", n, n)))


# ---- SymPy -> symgrad: what a SymPy user writes ------------------------------------------------
ns, ms = sp.symbols("n m")  # SymPy users' sizes carry no assumptions
As, Bs, xs = sp.MatrixSymbol("A", ns, ns), sp.MatrixSymbol("B", ns, ms), sp.MatrixSymbol("x", ns, 1)
ss, z = sp.Symbol("s"), sp.Symbol("z")

SYMPY_CASES = {
    "MatMul, Transpose": Bs.T * As * Bs,
    "MatAdd with negatives": As - 3 * Bs * Bs.T - As.T,
    "scalar coefficient": ss * As + sp.Identity(ns),
    "Inverse": sp.Inverse(As) * Bs,
    "MatPow": As ** 3 + As ** -2 + As ** 0,
    "Trace": sp.Trace(As * As.T) / ns,
    "Determinant": sp.Determinant(As) * ss,
    "log Determinant": sp.log(sp.Determinant(As)),
    "HadamardProduct": sp.HadamardProduct(Bs, Bs, As * Bs),
    "HadamardPower": sp.HadamardPower(Bs, 2) + sp.HadamardPower(As, -1) * Bs,
    "OneMatrix": sp.OneMatrix(ns, ms) + xs * sp.OneMatrix(1, ms),
    "ZeroMatrix": sp.ZeroMatrix(ns, ns) * As + As,
    "applyfunc exp": Bs.applyfunc(sp.exp),
    "ElementwiseApplyFunction of a class": ElementwiseApplyFunction(sp.tanh, Bs),
    "applyfunc tanh": Bs.applyfunc(sp.Lambda(z, sp.tanh(z))),
    "applyfunc polynomial": Bs.applyfunc(sp.Lambda(z, z ** 2 - 2 * z + 1)),
    "applyfunc sigmoid": Bs.applyfunc(sp.Lambda(z, 1 / (1 + sp.exp(-z)))),
    "applyfunc unknown to symgrad": Bs.applyfunc(sp.Lambda(z, sp.atan(z) + z)),
    "quadratic form as scalar": sp.Trace(xs.T * As * xs) + ss ** 2,
    "1x1 matrix": xs.T * As * xs,
    "DiagMatrix": sp.DiagMatrix(xs) * As,
    "DiagonalOf": sp.DiagonalOf(As),  # alone: SymPy 1.14 cannot multiply it at numeric sizes
    "KroneckerProduct": sp.KroneckerProduct(As, Bs),
}


@pytest.mark.parametrize("name", list(SYMPY_CASES))
def test_from_sympy_value(name):
    e = SYMPY_CASES[name]
    node = sg.from_sympy(e)
    sizes, env = point(node, seed=1)
    want = sympy_value(e, {str(kk): v for kk, v in sizes.items()}, env)
    same(sg.evaluate(node, env, sizes), want)
    if not isinstance(e, sp.MatrixExpr):
        assert node.shape == ()
    else:
        assert len(node.shape) == 2  # SymPy's shapes are kept


def test_from_sympy_names_the_ops():
    assert str(sg.from_sympy(Bs.applyfunc(sp.Lambda(z, 1 / (1 + sp.exp(-z)))))) == "σ(B)"
    assert str(sg.from_sympy(sp.log(sp.Determinant(As)))) == "log det(A)"
    assert str(sg.from_sympy(As - 3 * Bs * Bs.T)) == "A - 3 B Bᵀ"
    assert str(sg.from_sympy(sp.Trace(xs.T * As * xs))) == "xᵀ A x"


def test_plain_sizes_become_symgrad_dims():
    e = sg.from_sympy(Bs)
    assert e.shape == (n, m)  # positive-integer Symbols named n and m


def test_variables_keep_vectors_and_declarations():
    S = sg.matrix("S", n, n, symmetric=True)
    L = sg.from_sympy(sp.Trace(xs.T * sp.MatrixSymbol("S", ns, ns) * xs), variables=[x, S])
    assert L.shape == ()
    assert str(sg.grad(L, x)) == "2 S x"  # S is the declared symmetric S
    assert sg.grad(L, x).shape == (n,)
    with pytest.raises(sg.ShapeError, match="x"):
        sg.from_sympy(sp.MatrixSymbol("x", ns, ms), variables=[x])


def test_gradient_of_a_sympy_objective():
    L = sg.from_sympy(sp.Trace(xs.T * As * xs))
    xv = next(v for v in variables(L) if v.params[0] == "x")
    assert str(sg.grad(L, xv)) == "(A + Aᵀ) x"
    assert sg.gradcheck(L, xv).ok


def test_upstream_gradients_round_trip():
    f = sg.name("f", W @ X + b)
    g = sg.grad(f, b)
    back = sg.from_sympy(sg.to_sympy(g))
    ups = [v for v in variables(back) if v.params[2] == "upstream"]
    assert [v.params[0] for v in ups] == ["dL/df"]


# ---- what has no counterpart -------------------------------------------------------------
@pytest.mark.parametrize("expr, name", [
    (lambda: sg.vec(W), "vec"),
    (lambda: sg.commutation(n, m), "commutation"),
    (lambda: W ** W, "power with an array exponent"),
])
def test_to_sympy_refuses_with_the_node(expr, name):
    with pytest.raises(sg.UnsupportedError, match=name):
        sg.to_sympy(expr())


@pytest.mark.parametrize("expr, name", [
    (sp.Adjoint(As), "Adjoint"),
    (As[0, 1] * ss, "MatrixElement"),
    (sp.ImmutableMatrix([[1, 2]]), "ImmutableDenseMatrix"),
    (As ** ss, "integer exponent"),
    (sp.Sum(z, (z, 1, ns)), "Sum"),
])
def test_from_sympy_refuses_with_the_node(expr, name):
    with pytest.raises(sg.UnsupportedError, match=name):
        sg.from_sympy(expr)


def test_from_sympy_refuses_text():
    with pytest.raises(sg.UnsupportedError, match="string"):
        sg.from_sympy("A*B")


# ---- random expressions ------------------------------------------------------------------
@ci_examples(60)
@given(expressions(), seeds())
def test_random_round_trip(e, seed):
    sizes, env0 = numeric_point([e], seed)
    env = {v.params[0]: val for v, val in env0.items()}
    want = sg.evaluate(e, env, sizes)
    se = sg.to_sympy(e)
    same(sympy_value(se, sizes, env), want)
    same(sg.evaluate(sg.from_sympy(se, variables=variables(e)), env, sizes), want)
