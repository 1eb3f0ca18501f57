"""Jacobians in matrix notation (issue 5): textbook LaTeX, central finite differences and
torch.func.jacrev at random sizes and values; vec/Kronecker forms; errors; symmetric variables.

The numeric helpers here are shared with tests/test_hessian.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.jacobian import linear_matrix
from symgrad.ops import core
from symgrad.testing import numeric_grad, numeric_sym_grad, random_env, random_sizes

EPS = 1e-6
RTOL = 1e-6  # finite differences, relative to the largest entry (at least 1)
TORCH_RTOL = 1e-9
SEEDS = (0, 1)

n, m, p, q = sg.dims("n m p q")
x, y, c = sg.vector("x", n), sg.vector("y", n), sg.vector("c", n)
A, W, B = sg.matrix("A", m, n), sg.matrix("W", m, n), sg.matrix("B", n, m)
b = sg.vector("b", m)
X, P, Q = sg.matrix("X", n, m), sg.matrix("P", p, n), sg.matrix("Q", m, q)
t = sg.scalar("t")
s = sg.name("s", sg.softmax(x))


# ---- numerics shared with test_hessian.py -----------------------------------------------------
def point(exprs, seed: int):
    """Distinct random sizes and values (declared structure respected: symmetric, ±1)."""
    rng = np.random.default_rng(seed)
    sizes = random_sizes(exprs, rng)
    return sizes, random_env(exprs, sizes, rng)


def flat(a: np.ndarray) -> np.ndarray:
    """vec: columns stacked (column-major), as symgrad's vec."""
    return np.asarray(a, float).reshape(-1, order="F")


def wrt_var(wrt) -> sg.Node:
    return wrt.args[0] if wrt.op.name == "vec" else wrt


def fd_jacobian(y, wrt, env, sizes, value=None) -> np.ndarray:
    """Central differences of y (or of value(env), a function) w.r.t. wrt, in numerator layout
    (vec form for a vec wrt); a symmetric variable is perturbed symmetrically, entry by entry
    of its upper triangle (the derivative along (E_ij + E_ji)/2, which is what sym() gives)."""
    v = wrt_var(wrt)
    work = {k: np.array(a, dtype=float) for k, a in env.items()}
    f = value or (lambda e: np.asarray(sg.evaluate(y, e, sizes), float))
    y0 = f(work)
    x0 = work[v]
    cols = []
    for k in range(x0.size):
        idx = np.unravel_index(k, x0.shape, order="F")
        d = np.zeros_like(x0)
        d[idx] = 1.0
        if core.is_symmetric(v):
            d = (d + d.T) / 2
        work[v] = x0 + EPS * d
        hi = f(work)
        work[v] = x0 - EPS * d
        lo = f(work)
        cols.append((hi - lo) / (2 * EPS))
    work[v] = x0
    out = np.stack(cols, axis=-1)  # y.shape + (|x|,)
    if wrt.op.name == "vec" or v.ndim == 2:
        return out
    return out.reshape(y0.shape + x0.shape)


def assert_close(got, want, what: str, rtol: float = RTOL) -> None:
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert np.all(np.isfinite(want)), f"{what}: reference not finite"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    err = float(np.max(np.abs(got - want), initial=0.0))
    assert err <= rtol * scale, f"{what}: max error {err:.2e}\n{got}\nvs\n{want}"


@pytest.fixture
def oracle():
    pytest.importorskip("torch")
    import torch_oracle

    return torch_oracle


def torch_function(oracle, y, wrt, env, sizes):
    """(f, x0): y as a torch function of the variable wrt (vec: of vec(X), column-major)."""
    import torch

    v = wrt_var(wrt)
    tenv = {k: torch.tensor(a, dtype=oracle.DTYPE) for k, a in env.items()}
    shp = tuple(int(sympy.sympify(d).subs(sizes)) for d in v.shape)

    def f(xt):
        if wrt is not v:  # xt is vec(X): unstack the columns
            xt = xt.reshape(shp[1], shp[0]).T
        return oracle.to_torch(y, {**tenv, v: xt}, sizes)

    x0 = torch.tensor(flat(env[v]) if wrt is not v else env[v], dtype=oracle.DTYPE)
    return f, x0


# ---- the Jacobians of the issue ------------------------------------------------------------------
# (label, y, wrt, golden LaTeX)
JACOBIANS = [
    ("d(Ax)/dx = A", A @ x, x, "A"),
    ("d(xᵀB)/dx = Bᵀ", x @ B, x, r"B^{\top}"),
    ("d tanh(Wx + b)/dx", sg.tanh(W @ x + b), x,
     r"\operatorname{diag}(1 - \tanh(W x + b)^{\circ 2}) W"),
    ("d softmax(x)/dx", s, x, r"\operatorname{diag}(s) - s s^{\top}"),
    ("d softmax(x)/dx unnamed", sg.softmax(x), x,
     r"\operatorname{diag}(\operatorname{softmax}(x)) - \operatorname{softmax}(x) "
     r"\operatorname{softmax}(x)^{\top}"),
    ("d(x ⊙ y)/dx = diag(y)", x * y, x, r"\operatorname{diag}(y)"),
    ("d σ(x)/dx", sg.sigmoid(x), x, r"\operatorname{diag}(\sigma(x) \odot (1 - \sigma(x)))"),
    ("d vec(PXQ)/d vec(X) = Qᵀ ⊗ P", sg.vec(P @ X @ Q), sg.vec(X), r"Q^{\top} \otimes P"),
    ("d vec(Xᵀ)/d vec(X) = K", sg.vec(X.T), sg.vec(X), "K_{n,m}"),
    ("d(X w)/d vec(X) = wᵀ ⊗ I", X @ sg.vector("w", m), sg.vec(X),
     r"w^{\top} \otimes I_{n}"),
    ("d(x + t)/dx = I (broadcast scalar)", x + t, x, "I_{n}"),
    ("d(A x)/dt with x = t c: A c", A @ (t * c), t, "A c"),
    ("d(aᵀ x)/dx = a (scalar y: the gradient)", c @ x, x, "c"),
]

# More Jacobians, checked numerically only: broadcasting, reductions, diag, outer, kron, vec.
MORE = [
    ("outer", sg.vec(sg.outer(x, x)), x),
    ("kron of vectors", sg.kron(x, sg.tanh(x)), x),
    ("kron of matrices", sg.vec(sg.kron(X, P)), sg.vec(X)),
    ("kron, right factor", sg.vec(sg.kron(P, X)), sg.vec(X)),
    ("diag of a matrix", sg.diag(X @ X.T), sg.vec(X)),
    ("diag of a vector", sg.vec(sg.diag(sg.exp(x))), x),
    ("trace in a product", sg.trace(X @ X.T) * x, x),
    ("column sums", sg.sum(X * X, axis=0), sg.vec(X)),
    ("row sums, keepdims", sg.vec(sg.sum(sg.exp(X), axis=1, keepdims=True)), sg.vec(X)),
    ("broadcast column", sg.vec(sg.tanh(X + sg.matrix("k", n, 1))), sg.vec(sg.matrix("k", n, 1))),
    ("broadcast row vector", sg.vec(sg.tanh(X * b)), b),
    ("logsumexp inside", sg.logsumexp(x) * sg.sin(x), x),
    ("softmax of a product", sg.softmax(A @ x), x),
    ("mean and division", (x - sg.mean(x)) / (1 + sg.norm(x)), x),
    ("matrix of a scalar", sg.exp(t * B), t),
    ("transpose of a product", sg.vec((X @ sg.diag(b)).T), b),
    ("vec of a row", sg.vec(sg.reshape(sg.sin(x), (1, n))), x),
]


@pytest.mark.parametrize("label,y,wrt,golden", JACOBIANS, ids=[j[0] for j in JACOBIANS])
def test_textbook_form(label, y, wrt, golden):
    assert sg.latex(sg.jacobian(y, wrt), inline=True) == golden


def _shape_of(y, wrt):
    v = wrt_var(wrt)
    return tuple(y.shape) + ((v.shape[0] * v.shape[1],) if wrt is not v else tuple(v.shape))


ALL = [(label, y, wrt) for label, y, wrt, _ in JACOBIANS] + MORE


@pytest.mark.parametrize("label,y,wrt", ALL, ids=[j[0] for j in ALL])
def test_matches_finite_differences(label, y, wrt):
    J = sg.jacobian(y, wrt)
    assert J.shape == _shape_of(y, wrt)
    for seed in SEEDS:
        sizes, env = point([y, J], seed)
        assert_close(sg.evaluate(J, env, sizes), fd_jacobian(y, wrt, env, sizes),
                     f"{label} (seed {seed}): {J}")


@pytest.mark.parametrize("label,y,wrt", ALL, ids=[j[0] for j in ALL])
def test_matches_torch_jacrev(label, y, wrt, oracle):
    import torch

    J = sg.jacobian(y, wrt)
    for seed in SEEDS:
        sizes, env = point([y, J], seed)
        f, x0 = torch_function(oracle, y, wrt, env, sizes)
        ref = torch.func.jacrev(f)(x0)
        assert_close(sg.evaluate(J, env, sizes), oracle.numpy(ref), f"{label} vs torch: {J}",
                     TORCH_RTOL)


def test_jacobian_layout_is_numerator():
    J = sg.jacobian(A @ x, x)  # (m, n): row i is the gradient of y_i
    assert J.shape == (m, n)
    assert sg.jacobian(sg.tanh(x * t), t).shape == (n,)
    assert sg.jacobian(sg.sum(x * x), x).shape == (n,)


def test_unsimplified_jacobian_has_the_same_value():
    y_ = sg.tanh(W @ x + b) * sg.softmax(W @ x)
    raw, simp = sg.jacobian(y_, x, simplify=False), sg.jacobian(y_, x)
    sizes, env = point([raw], 3)
    assert_close(sg.evaluate(raw, env, sizes), sg.evaluate(simp, env, sizes), "raw vs simplified")


# ---- kron and vec -----------------------------------------------------------------------------
def test_kron_vec_printing_and_identity():
    assert sg.latex(sg.kron(P, Q.T)) == r"P \otimes Q^{\top}"
    assert sg.latex(sg.kron(P @ X, Q)) == r"(P X) \otimes Q"
    assert sg.latex(sg.kron(sg.eye(n), A + B.T)) == r"I_{n} \otimes (A + B^{\top})"
    assert sg.latex(sg.vec(X)) == r"\operatorname{vec}(X)"
    assert str(sg.kron(P, Q)) == "P ⊗ Q"
    # Magnus–Neudecker: vec(P X Q) = (Qᵀ ⊗ P) vec(X), numerically.
    sizes, env = point([P @ X @ Q], 0)
    lhs = sg.evaluate(sg.vec(P @ X @ Q), env, sizes)
    rhs = sg.evaluate(sg.kron(Q.T, P) @ sg.vec(X), env, sizes)
    assert_close(lhs, rhs, "vec(PXQ)")


def test_vec_of_vectors_and_unvec_roundtrip():
    assert sg.vec(x) is x
    assert sg.simplify(sg.unvec(sg.vec(X), (n, m))) is X
    sizes, env = point([X], 1)
    val = sg.evaluate(sg.unvec(sg.vec(X), (n, m)), env, sizes)
    assert_close(val, env[X], "unvec(vec(X))")


# ---- errors -----------------------------------------------------------------------------------
def test_more_axes_in_numerator_layout():
    """Beyond two axes the Jacobian is the array y.shape + x.shape (as jax.jacobian); the vec
    form stays for a vec the user asks for, and is refused when it would still have 3 axes."""
    assert sg.jacobian(P @ X, X).shape == (p, m, n, m)
    assert sg.jacobian(sg.outer(x, x), x).shape == (n, n, n)
    assert sg.jacobian(A @ x, X).shape == (m, n, m)
    with pytest.raises(sg.UnsupportedError, match=r"sg\.vec\(Y\)"):
        sg.jacobian(P @ X, sg.vec(X))


def test_bad_wrt_and_shapes():
    with pytest.raises(sg.DifferentiationError):
        sg.jacobian(A @ x, A @ x)
    with pytest.raises(sg.DifferentiationError):
        sg.jacobian(A @ x, sg.vec(A @ B))
    with pytest.raises(sg.ShapeError):
        sg.kron(x, X)
    with pytest.raises(sg.ShapeError):
        sg.kron(t, X)
    with pytest.raises(sg.ShapeError):
        sg.unvec(x, (m, m))


def test_not_linear_is_refused():
    u = sg.vector("u", n)
    with pytest.raises(sg.UnsupportedError, match="not linear"):
        linear_matrix(u * u, u)
    with pytest.raises(sg.UnsupportedError, match="not linear"):
        linear_matrix(u + x, u)  # affine
    with pytest.raises(sg.UnsupportedError, match="no matrix form"):
        linear_matrix(sg.exp(u), u)


# ---- symmetric variables ----------------------------------------------------------------------
S = sg.matrix("S", n, n, symmetric=True)
M = sg.matrix("M", n, n)

# (objective, sym(G) in LaTeX)
SYMMETRIC = [
    (sg.trace(M @ S), r"\frac{1}{2} (M + M^{\top})"),
    (x @ S @ x, r"x x^{\top}"),
    (sg.logdet(S), r"S^{-1}"),
    (sg.trace(S @ S @ S), r"3 S S"),
    (sg.sum(S * M), r"\frac{1}{2} (M + M^{\top})"),
    (x @ sg.inv(S) @ y, None),
    (sg.sum(sg.exp(S) @ M), None),
]


@pytest.mark.parametrize("L,golden", SYMMETRIC, ids=[str(e) for e, _ in SYMMETRIC])
def test_symmetric_gradient(L, golden):
    g = sg.grad(L, S)
    if golden is not None:
        assert sg.latex(g) == golden
    assert sg.simplify(g.T) is g or golden is None  # symmetric as an expression
    for seed in SEEDS:
        sizes, env = point([L, g], seed)
        gv = sg.evaluate(g, env, sizes)
        assert_close(gv, gv.T, "symmetric value")
        work = dict(env)
        num = numeric_sym_grad(lambda w=work, z=sizes: float(sg.evaluate(L, w, z)), work[S], EPS)
        assert_close(gv, num, f"sym(G) vs symmetric perturbation: {g}")
    assert sg.gradcheck(L, S).ok


def test_symmetric_gradient_is_not_the_cookbook_rule():
    """sym(G) makes dL = <sym(G), dS> for symmetric dS; G + Gᵀ - diag(G) doubles off-diagonals."""
    L = sg.trace(M @ S)
    g = sg.grad(L, S)
    sizes, env = point([L], 0)
    G = env[M].T  # the unconstrained gradient
    cookbook = G + G.T - np.diag(np.diag(G))
    rng = np.random.default_rng(5)
    dS = rng.normal(size=env[S].shape)
    dS = dS + dS.T
    work = dict(env)

    def along(h):
        work[S] = env[S] + h * dS
        return float(sg.evaluate(L, work, sizes))

    dL = (along(EPS) - along(-EPS)) / (2 * EPS)
    assert abs(dL - np.sum(sg.evaluate(g, env, sizes) * dS)) < 1e-6
    assert abs(dL - np.sum(cookbook * dS)) > 1e-3


def test_unconstrained_perturbation_differs():
    """Perturbing a symmetric S entry by entry (non-symmetric) sees G, not sym(G)."""
    L = sg.trace(M @ S)
    sizes, env = point([L], 0)
    work = {k: np.array(v) for k, v in env.items()}
    raw = numeric_grad(lambda: float(sg.evaluate(L, work, sizes)), work[S], EPS)
    assert_close(raw, env[M].T, "unconstrained")


def test_declaration_errors():
    with pytest.raises(sg.SymgradError, match="square"):
        sg.matrix("S", n, m, symmetric=True)
    with pytest.raises(sg.SymgradError, match="labels"):
        sg.vector("y", n, labels="binary")
    with pytest.raises(sg.SymgradError):
        sg.matrix("Y", n, n, symmetric=True, labels="pm1")


def test_pm1_labels_only_where_declared():
    yl = sg.vector("y", n, labels="pm1")
    assert sg.latex(sg.simplify(yl * yl * x)) == "x"
    assert sg.latex(sg.simplify(y * y * x)) == r"x \odot y^{\circ 2}"
    sizes, env = point([yl], 0)
    assert set(np.unique(env[yl])) <= {-1.0, 1.0}
