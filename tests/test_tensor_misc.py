"""Tensor loose ends (issue 12): Jacobians printed with their Kronecker deltas contracted, the
vec form through tensors, einsum's '...', the 3-D broadcast claims judged by check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import ci_examples, numeric_point, seeds, tensor_expressions
from test_tensor_random import _fd_jacobian

import symgrad as sg
from symgrad.jacobian import _batched_jacobian, _vec_axes
from symgrad.node import topo
from symgrad.numeric import evaluate, variables
from symgrad.ops.core import variable
from symgrad.simplify import simplify
from symgrad.testing import random_env, random_sizes

Bd, T, d, h = sg.dims("B T d h")
SIZES = {Bd: 3, T: 2, d: 4, h: 3}
X, W, b = sg.tensor("X", Bd, T, d), sg.matrix("W", d, h), sg.vector("b", h)
Y = sg.matrix("Y", T, d)


def _env(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(3, 2, 4)), "W": rng.normal(size=(4, 3)),
            "b": rng.normal(size=3), "Y": rng.normal(size=(2, 4))}


def fd_jacobian(y, name: str, env: dict) -> np.ndarray:
    """dy/d(env[name]) by central differences: shape y.shape + x.shape."""
    return _fd_jacobian(y, name, env, SIZES)


def _close(a, b, what: str, tol: float = 1e-7) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, expected {b.shape}"
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    err = float(np.max(np.abs(a - b), initial=0.0))
    assert err <= tol * scale, f"{what}: off by {err:.3e}"


# ---- 1. Jacobians with their deltas contracted -------------------------------------------------
def test_bias_jacobian_of_a_batched_layer_is_one_delta():
    """d(X W + b)_{ijk} / d b_l = delta_{kl}: no sum over a delta survives."""
    J = sg.jacobian(X @ W + b, b)
    assert sg.latex(J) == r"\left[ \delta_{kl} \right]_{ijkl}"
    env = _env()
    np.testing.assert_allclose(evaluate(J, env, SIZES), fd_jacobian(X @ W + b, "b", env),
                               atol=1e-7)


DELTA_CASES = [
    ("tanh(Y W) w.r.t. W", sg.tanh(Y @ W), W),
    ("X W + b w.r.t. W", X @ W + b, W),
    ("tanh(X W + b) w.r.t. b", sg.tanh(X @ W + b), b),
    ("softmax(X) w.r.t. X", sg.softmax(X, -1), X),
    ("X sum_0 X w.r.t. X", X * sg.sum(X, 0), X),
    ("einsum with Yᵀ", sg.einsum("td,btd->bt", Y, sg.exp(X)), Y),
]


@pytest.mark.parametrize("what,y,x", DELTA_CASES, ids=[c[0] for c in DELTA_CASES])
def test_contracted_jacobians_keep_their_value(what, y, x):
    """The contracted form has no sum over an index a delta fixes, and the Jacobian's value."""
    J = sg.jacobian(y, x)
    raw = sg.jacobian(y, x, simplify=False)
    assert J.shape == y.shape + x.shape
    text = sg.latex(J)
    assert r"\delta" in text and r"^{\top}" not in text, text
    env = _env(1)
    want = fd_jacobian(y, x.params.name, env)
    np.testing.assert_allclose(evaluate(J, env, SIZES), want, atol=1e-6)
    np.testing.assert_allclose(evaluate(raw, env, SIZES), want, atol=1e-6)


def test_matrix_by_matrix_jacobian_reads_as_the_textbook_entry():
    """d tanh(Y W)_{ij} / d W_{kl} = Y_{ik} delta_{jl} (1 - tanh(Y W)^2)_{ij}: no sum."""
    text = sg.latex(sg.jacobian(sg.tanh(Y @ W), W))
    assert r"\sum" not in text and "Y_{ik}" in text and r"\delta_{jl}" in text, text
    assert r"(1 - \tanh(Y W)^{\circ 2})_{ij}" in text, text


@pytest.mark.parametrize("L,x", [
    (sg.sum(sg.tanh(Y @ W) ** 2), W),
    (sg.sum(sg.tanh(X @ W + b) ** 2), b),
    (sg.sum(sg.logsumexp(X, -1)), X),
], ids=["tanh-layer", "batched-bias", "logsumexp"])
def test_contracted_hessians_match_finite_differences(L, x):
    H = sg.hessian(L, x)
    env = _env(2)
    np.testing.assert_allclose(evaluate(H, env, SIZES), fd_jacobian(sg.grad(L, x),
                               x.params.name, env), atol=1e-6)


@pytest.mark.parametrize("spec,kinds", [
    ("ij,ij,bjk->bk", ["I3", (3, 3), (2, 3, 4)]),  # delta_{ij} P_{ij}: P's diagonal
    ("ii,bik->bk", ["I3", (2, 3, 4)]),  # delta_{ii} = 1
    ("ij,k->ijk", ["I3", (4,)]),  # both indices kept: the identity stays
    ("ij,jk,kl->il", ["I3", "I3", (3, 3)]),  # a chain of identities
    ("ij,bj->bij", ["I3", (2, 3)]),  # both kept: the other operand says the earlier one
    ("ij,bjk->b", ["I3", (2, 3, 4)]),  # sum_j delta_{ij} = 1 for every i: a count of i
    ("i,j,bjk->bk", ["1_5", "1_3", (2, 3, 4)]),  # a ones vector summed alone: a count
    ("i,bjk->bijk", ["1_5", (2, 3, 4)]),  # a ones vector kept alone: a broadcast
])
def test_delta_and_ones_canonical_forms_keep_the_value(spec, kinds):
    """An identity with a summed index and every ones operand leave the contraction."""
    rng = np.random.default_rng(3)
    ops, vals = [], []
    for k, kind in enumerate(kinds):
        if kind == "I3":
            ops.append(sg.eye(3))
            vals.append(np.eye(3))
        elif isinstance(kind, str):
            m = int(kind[2:])
            ops.append(sg.ones(m))
            vals.append(np.ones(m))
        else:
            ops.append(sg.tensor(f"V{k}", *kind))
            vals.append(rng.normal(size=kind))
    s = simplify(sg.einsum(spec, *ops))
    env = {o: v for o, v in zip(ops, vals) if o.op.name == "var"}
    np.testing.assert_allclose(evaluate(s, env), np.einsum(spec, *vals), atol=1e-12)
    for n in topo(s):
        if n.op.name == "einsum":
            terms, out = n.params
            for t, a in zip(terms, n.args):
                assert a.op.name != "ones", str(s)
                assert a.op.name != "eye" or set(t) <= set(out), str(s)


# ---- 2. the vec (Magnus–Neudecker) form through tensors ----------------------------------------
Yt = sg.sum(sg.tanh(X @ W + b), 0)  # (T, h), computed through (B, T, h) arrays


def fd_vec_jacobian(y, name: str, env: dict, vec_x: bool) -> np.ndarray:
    """d y / d vec(x) by central differences, perturbing x's entries in column-major order
    (NumPy's order="F"): the oracle does not share the code under test."""
    work = dict(env)
    base = work[name]
    flat = base.reshape(-1, order="F") if vec_x else base.reshape(-1)
    cols = []
    for at in range(flat.size):
        diff = 0
        for sign in (1, -1):
            v = flat.copy()
            v[at] += sign * 1e-6
            work[name] = v.reshape(base.shape, order="F" if vec_x else "C")
            diff = diff + sign * np.asarray(evaluate(y, work, SIZES)) / 2e-6
        cols.append(diff)
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("what,y,x,shape", [
    ("vec Y w.r.t. vec W", sg.vec(Yt), sg.vec(W), (T * h, d * h)),
    ("vec Y w.r.t. b", sg.vec(Yt), b, (T * h, h)),
    ("a vector w.r.t. vec W", sg.sum(Yt, 0), sg.vec(W), (h, d * h)),
    ("a scalar w.r.t. vec W", sg.sum(Yt ** 2), sg.vec(W), (d * h,)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_vec_form_jacobians_through_tensors(what, y, x, shape):
    J = sg.jacobian(y, x)
    assert J.shape == shape
    var = x.args[0] if x.op.name == "vec" else x
    env = _env(4)
    got = evaluate(J, env, SIZES)
    want = fd_vec_jacobian(y, var.params.name, env, x.op.name == "vec")
    np.testing.assert_allclose(got, want.reshape(got.shape), atol=1e-6)
    assert sg.latex(J)


def test_a_vec_form_that_keeps_three_axes_is_refused():
    with pytest.raises(sg.UnsupportedError, match=r"sg\.vec\(Y\)"):
        sg.jacobian(Yt, sg.vec(W))


def test_vec_form_hessian_through_tensors():
    L = sg.sum(sg.tanh(X @ W + b) ** 2)
    H = sg.hessian(L, sg.vec(W))
    assert H.shape == (d * h, d * h)
    env = _env(5)
    got = evaluate(H, env, SIZES)
    np.testing.assert_allclose(got, got.T, atol=1e-9)
    want = fd_vec_jacobian(sg.vec(sg.grad(L, W)), "W", env, True)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_vec_form_agrees_with_the_kronecker_form():
    """Where both exist (a matrix expression), the batched vec form is the Kronecker one."""
    y = sg.tanh(Y @ W)
    kron = sg.jacobian(sg.vec(y), sg.vec(W))
    assert "otimes" in sg.latex(kron)
    batched = _vec_axes(_vec_axes(_batched_jacobian(y, W, True), 0), 1)
    env = _env(6)
    np.testing.assert_allclose(evaluate(batched, env, SIZES), evaluate(kron, env, SIZES),
                               atol=1e-12)


# ---- 3. einsum with '...' ----------------------------------------------------------------------
ELLIPSIS = [
    ("...d,dh->...h", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),  # batch axes broadcast (1 against 5)
    ("i...,i...->...", [(3, 2), (3, 1)]),
    ("ba...,ab", [(3, 2, 5), (2, 3)]),
    ("...i->...", [(3,)]),  # an ellipsis of no axes
    ("i...,j...->ij...", [(3, 2), (4, 1)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output, no ellipsis
    ("...", [(2, 3)]),
]


@pytest.mark.parametrize("spec,shapes", ELLIPSIS, ids=[e[0] for e in ELLIPSIS])
def test_einsum_ellipsis_is_numpy_einsum(spec, shapes):
    rng = np.random.default_rng(7)
    xs = [sg.tensor(f"E{k}", *s) for k, s in enumerate(shapes)]
    vals = [rng.normal(size=s) for s in shapes]
    e = sg.einsum(spec, *xs)
    want = np.einsum(spec, *vals)
    assert e.shape == want.shape
    np.testing.assert_allclose(evaluate(e, dict(zip(xs, vals))), want, atol=1e-12)
    L = sg.sum(sg.sin(e))  # and it differentiates like any contraction
    for x, v in zip(xs, sg.grad(L, xs)):
        assert v.shape == x.shape


def test_einsum_ellipsis_with_symbolic_sizes():
    e = sg.einsum("...d,dh->...h", X, W)
    assert e.shape == (Bd, T, h)
    env = _env(8)
    np.testing.assert_allclose(evaluate(e, env, SIZES), env["X"] @ env["W"], atol=1e-12)


@pytest.mark.parametrize("spec,shapes,message", [
    ("...i...->i", [(3, 4)], "one ellipsis"),
    ("..i->i", [(3, 4)], "one ellipsis"),
    ("ijk...->i", [(3, 4)], "names 3 axes"),
    ("...i,...i->...i", [(2, 3), (4, 3)], "do not broadcast"),
    ("...i->i", [(2, 3)], "must keep the axes"),
    ("...i,i->...", [(3,)], "names 2 operands"),
    ("...i->.i", [(3,)], "one ellipsis"),
])
def test_bad_ellipsis_specs_are_refused_clearly(spec, shapes, message):
    xs = [sg.tensor(f"E{k}", *s) for k, s in enumerate(shapes)]
    with pytest.raises(sg.ShapeError, match=message):
        sg.einsum(spec, *xs)
    with pytest.raises(ValueError):  # NumPy refuses them too
        np.einsum(spec, *[np.ones(s) for s in shapes])


# ---- 4. check: the batched layer's bias gradient ----------------------------------------------
LAYER = "X: B×T×d, W: d×h, b: h"
DLDF = r"\left(\frac{\partial L}{\partial f}\right)"


def test_check_refutes_the_scaled_upstream_for_a_batched_bias():
    """The often-printed B T dL/df is wrong: the gradient sums over both broadcast axes."""
    v = sg.check(r"\frac{\partial L}{\partial b} = B T \frac{\partial L}{\partial f}",
                 "f = X W + b", "b", LAYER)
    assert not v.ok and v.summary.startswith("wrong")
    assert any("constant along the broadcast axes 0 (length B), 1 (length T)" in dg
               for dg in v.diagnoses), v.diagnoses
    assert v.counterexample is not None


@pytest.mark.parametrize("claim,ok", [
    (rf"\left[ \sum_{{i t}} {DLDF}_{{itj}} \right]_{{j}}", True),
    (rf"\sum_{{i}} \sum_{{t}} {DLDF}_{{it}}", True),
    (rf"\sum_{{i}} {DLDF}_{{i}}^{{\top}} \mathbf{{1}}_{{T}}", True),
    (rf"\frac{{\partial L}}{{\partial b}} = \sum_{{i}} {DLDF}_{{i}}", False),  # T×h: one sum
    (rf"\frac{{1}}{{B T}} \left[ \sum_{{i t}} {DLDF}_{{itj}} \right]_{{j}}", False),  # a mean
])
def test_check_bias_claims_of_a_batched_layer(claim, ok):
    v = sg.check(claim, "f = X W + b", "b", LAYER)
    assert v.ok is ok, str(v)
    if not ok:
        assert v.counterexample is not None


# ---- 5. JAX and torch.func on random tensor expressions ---------------------------------------
def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _fixed_sizes_point(exprs, seed: int) -> tuple[dict, dict]:
    """Random values at sizes fixed across examples (JAX compiles for each new shape)."""
    sizes = random_sizes(exprs, np.random.default_rng(0))
    return sizes, random_env(exprs, sizes, np.random.default_rng(seed))


@ci_examples(25)
@given(tensor_expressions(max_depth=2), seeds())
def test_jax_code_of_gradients_matches_jax_grad(e, seed):
    """symgrad's gradients, generated as JAX code (jitted), against jax.grad of the generated
    forward code (JAX's autodiff, not symgrad's VJP rules) and the reference evaluator."""
    jax = _jax()
    U = variable("U", *e.shape)
    L = sg.sum(U * e)
    xs = variables(e)
    gs = sg.grad(L, xs)
    args = variables([L, *gs])
    sizes, env = _fixed_sizes_point([L], seed)
    vals = [jax.numpy.asarray(env[v]) for v in args]
    forward = sg.lambdify([L], args, backend="jax")
    ref = jax.jit(jax.grad(lambda *a: forward(*a)[0],
                           argnums=[args.index(x) for x in xs]))(*vals)
    got = jax.jit(sg.lambdify(gs, args, backend="jax"))(*vals)
    for x, g, r, want in zip(xs, got, ref, evaluate(gs, env, sizes)):
        _close(np.asarray(g), np.asarray(r), f"jax.grad w.r.t. {x}")
        _close(np.asarray(g), want, f"evaluate, w.r.t. {x}")


@ci_examples(10)
@given(tensor_expressions(max_depth=2), seeds())
def test_jax_code_of_hessians_matches_jax_hessian(e, seed):
    jax = _jax()
    L = sg.sum(sg.tanh(e) * e)
    x = variables(e)[-1]
    H = sg.hessian(L, x)
    args = variables([L, H])
    sizes, env = _fixed_sizes_point([L], seed)
    vals = [jax.numpy.asarray(env[v]) for v in args]
    forward = sg.lambdify([L], args, backend="jax")
    k = args.index(x)
    ref = jax.jit(jax.hessian(lambda *a: forward(*a)[0], argnums=k))(*vals)
    (got,) = jax.jit(sg.lambdify([H], args, backend="jax"))(*vals)
    _close(np.asarray(got), np.asarray(ref), f"jax.hessian w.r.t. {x}")


@ci_examples(15)
@given(tensor_expressions(max_depth=2), seeds())
def test_hessians_of_random_tensor_expressions_match_torch_func(e, seed):
    torch = pytest.importorskip("torch")
    torch_oracle = pytest.importorskip("torch_oracle")
    L = sg.sum(sg.tanh(e) * e)
    x = variables(e)[-1]
    H = sg.hessian(L, x)
    sizes, env = numeric_point([L], seed)

    def f(xt):
        tenv = {v: (xt if v is x else torch.tensor(env[v])) for v in variables(L)}
        return torch_oracle.to_torch(L, tenv, sizes)

    ref = torch.func.hessian(f)(torch.tensor(env[x]))
    _close(evaluate(H, env, sizes), ref.numpy(), f"torch.func.hessian w.r.t. {x}")


# ---- 6. the plain-text (Unicode) notation str() prints parses back --------------------------
N3 = sg.dims("n")
Zu, Au, Vu = sg.tensor("Z", Bd, N3, h), sg.matrix("A", N3, h), sg.vector("v_2", h)
Fu = sg.name("f", Zu + Au)
UNICODE_CASES = [
    Zu + Au,
    sg.einsum("ijk,jk->i", Zu, Au),
    sg.sum(sg.tanh(Zu)),
    sg.softmax(Zu, -1),
    sg.jacobian(sg.tanh(Zu @ Au.T), Au),  # δ[l,m], tanh(...)^(2)
    sg.jacobian(Zu @ Vu, Vu),
    sg.sum(Zu, 0) + sg.sum(Zu, (0, 1), keepdims=True),  # the unit index 1
    sg.grad(Fu, Au),  # (∂L/∂f)[l,i,j]
    sg.grad(sg.sum(sg.tanh(Zu @ Au.T) ** 2), Au),
    Zu * Vu,  # v₂[k]: a name with a Unicode subscript, then indexed
    sg.inv(Au @ Au.T) @ Au,  # matrix notation: A⁻¹, Aᵀ
    sg.exp(Au) ** 3,  # exp(A)∘³
]


@pytest.mark.parametrize("e", UNICODE_CASES, ids=[str(k) for k in range(len(UNICODE_CASES))])
def test_str_of_tensors_parses_back_to_its_value(e):
    text = str(e)
    shapes = {"Z": ("B", "n", "h"), "A": ("n", "h"), "v_2": ("h",), "f": ("B", "n", "h")}
    back = sg.parse(text, shapes, shape=e.shape)
    rng = np.random.default_rng(9)
    sizes = {Bd: 2, N3: 3, h: 4}
    env = {"Z": rng.normal(size=(2, 3, 4)), "A": rng.normal(size=(3, 4)),
           "v_2": rng.normal(size=4)}
    env.update({v: rng.normal(size=tuple(int(sizes[s]) if s in sizes else s for s in v.shape))
                for v in variables([e, back]) if v.params.name not in env})
    np.testing.assert_allclose(evaluate(back, env, sizes), evaluate(e, env, sizes),
                               atol=1e-9, err_msg=text)


def test_unicode_sums_and_deltas():
    rng = np.random.default_rng(10)
    a = rng.normal(size=(3, 3))
    shapes = {"P": ("n", "n")}
    assert np.isclose(evaluate(sg.parse("∑_ij P[i,j]", shapes), {"P": a}), a.sum())
    assert np.isclose(evaluate(sg.parse("Σ_ij δ[i,j] P[i,j]", shapes), {"P": a}), np.trace(a))
    got = evaluate(sg.parse("[Σ_j P[i,j] P[j,k]]_(i,k)", shapes), {"P": a})
    np.testing.assert_allclose(got, a @ a)
    with pytest.raises(sg.LatexSyntaxError, match="a sum needs its indices"):
        sg.parse("∑ P", shapes)


@ci_examples(30)
@given(tensor_expressions(), seeds())
def test_str_of_random_tensor_expressions_parses_back_or_is_refused(e, seed):
    """str() of a random expression and its gradients reads back to the same value, or is
    refused with a symgrad error (never a different value)."""
    U = variable("U", *e.shape)
    L = sg.sum(U * e)
    sizes, env = numeric_point([L], seed)
    for f in [e, *sg.grad(L, variables(e))]:
        try:
            back = sg.parse(str(f), variables([L]), shape=f.shape)
        except sg.SymgradError:
            continue
        _close(evaluate(back, env, sizes), evaluate(f, env, sizes), str(f), tol=1e-9)
