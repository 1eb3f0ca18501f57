"""Jacobians and Hessians with more than two axes (numerator layout, as jax.jacobian): the VJP
batched over unit upstreams (symgrad.batching), against finite differences and torch.func."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.testing import numeric_grad

B, n, h = sg.dims("B n h")
X, W, b = sg.matrix("X", B, n), sg.matrix("W", n, h), sg.vector("b", h)
Z = sg.tensor("Z", B, n, h)
SIZES = {B: 4, n: 3, h: 2}


def _env(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 2)),
            "b": rng.normal(size=2), "Z": rng.normal(size=(4, 3, 2))}


def finite_jacobian(y, x, env) -> np.ndarray:
    """J[I, J] = dy_I / dx_J by central differences."""
    name = x.params.name
    ys = np.asarray(sg.evaluate(y, env, SIZES)).shape
    J = np.zeros(ys + env[name].shape)
    for at in np.ndindex(ys):
        def entry(at=at):
            return float(np.asarray(sg.evaluate(y, env, SIZES))[at])
        J[at] = numeric_grad(entry, env[name], 1e-6)
    return J


JACOBIANS = [
    ("X W + b w.r.t. b", sg.tanh(X @ W + b), b, (B, h, h)),
    ("X W + b w.r.t. W", sg.tanh(X @ W + b), W, (B, h, n, h)),
    ("Z sum_0(Z) w.r.t. Z", Z * sg.sum(Z, 0), Z, (B, n, h, B, n, h)),
    ("softmax over the last axis", sg.softmax(Z, -1), Z, (B, n, h, B, n, h)),
    ("batched product", sg.sum(Z @ W.T, 1), W, (B, n, n, h)),
    ("logsumexp over two axes", sg.logsumexp(Z, (0, 2)), Z, (n, B, n, h)),
    ("transpose and reshape", sg.reshape(sg.transpose(Z, (1, 0, 2)), (n, B * h)), Z,
     (n, B * h, B, n, h)),
    ("einsum", sg.einsum("bij,jk->bik", Z, sg.exp(W.T)), W, (B, n, n, n, h)),
    ("no dependence", Z, X, (B, n, h, B, n)),
]


@pytest.mark.parametrize("what,y,x,shape", JACOBIANS, ids=[j[0] for j in JACOBIANS])
def test_jacobian_matches_finite_differences(what, y, x, shape):
    J = sg.jacobian(y, x)
    assert J.shape == shape
    env = _env()
    np.testing.assert_allclose(sg.evaluate(J, env, SIZES), finite_jacobian(y, x, env),
                               atol=1e-6)
    assert sg.latex(J)  # prints (index notation)


@pytest.mark.parametrize("what,y,x,shape", JACOBIANS[:5], ids=[j[0] for j in JACOBIANS[:5]])
def test_jacobian_matches_torch(what, y, x, shape):
    torch = pytest.importorskip("torch")
    import torch_oracle

    env = _env(1)
    J = sg.evaluate(sg.jacobian(y, x), env, SIZES)
    nodes = {v.params.name: v for v in (X, W, b, Z)}

    def f(xt):
        tenv = {nodes[k]: (xt if k == x.params.name else torch.tensor(v))
                for k, v in env.items()}
        return torch_oracle.to_torch(y, tenv, {s: v for s, v in SIZES.items()})

    ref = torch.func.jacrev(f)(torch.tensor(env[x.params.name]))
    np.testing.assert_allclose(J, ref.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("L,x", [
    (sg.sum(sg.tanh(X @ W) ** 2), W),
    (sg.sum(sg.logsumexp(Z, -1)), Z),
    (sg.sum(sg.sin(Z) * Z), Z),
], ids=["tanh-layer", "logsumexp", "sin"])
def test_hessian_of_any_order(L, x):
    H = sg.hessian(L, x)
    assert H.shape == x.shape + x.shape
    env = _env(2)
    Hv = sg.evaluate(H, env, SIZES)
    k = x.ndim
    axes = tuple(range(k, 2 * k)) + tuple(range(k))
    np.testing.assert_allclose(Hv, np.transpose(Hv, axes), atol=1e-9)  # symmetric
    np.testing.assert_allclose(Hv, finite_jacobian(sg.grad(L, x), x, env), atol=1e-6)


def test_trace_hessian_is_twice_the_identity():
    Y = sg.matrix("Y", n, h)
    H = sg.evaluate(sg.hessian(sg.trace(Y.T @ Y), Y), {"Y": np.ones((3, 2))}, SIZES)
    np.testing.assert_allclose(H, 2 * np.einsum("ik,jl->ijkl", np.eye(3), np.eye(2)))
