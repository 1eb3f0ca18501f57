"""Forward mode (symgrad.jvp): differentials match finite differences and are the adjoints of
the VJPs; bad tangents get symgrad errors."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.jvp import jvp
from symgrad.testing import random_env, random_sizes

n, m, k = sg.dims("n m k")
W, X, b = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("b", n, 1)
x, A = sg.vector("x", n), sg.matrix("A", n, n)
dW, dX, db = sg.matrix("dW", n, m), sg.matrix("dX", m, k), sg.matrix("db", n, 1)
dx, dA = sg.vector("dx", n), sg.matrix("dA", n, n)

CASES = [
    (W @ X + b, {W: dW, X: dX, b: db}),
    (sg.tanh(W @ X + b), {W: dW, b: db}),
    (x @ A @ x, {x: dx}),
    (sg.logdet(A), {A: dA}),
    (sg.softmax(A @ x, axis=0), {x: dx, A: dA}),
]


@pytest.mark.parametrize("y,tangents", CASES)
@pytest.mark.parametrize("simplify", [True, False])
def test_jvp_matches_finite_differences(y, tangents, simplify):
    dy = jvp(y, tangents, simplify=simplify)
    assert dy.shape == y.shape
    rng = np.random.default_rng(0)
    sizes = random_sizes([y, dy], rng)
    env = random_env([y, dy], sizes, rng)
    h = 1e-6
    plus, minus = dict(env), dict(env)
    for v, t in tangents.items():
        plus[v] = env[v] + h * env[t]
        minus[v] = env[v] - h * env[t]
    fd = (sg.evaluate(y, plus, sizes) - sg.evaluate(y, minus, sizes)) / (2 * h)
    np.testing.assert_allclose(sg.evaluate(dy, env, sizes), fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("y,tangents", CASES[:3])
def test_jvp_is_the_adjoint_of_vjp(y, tangents):
    """<u, J t> = <Jᵀ u, t> for a random upstream u."""
    u = sg.matrix("U", *y.shape) if y.ndim == 2 else sg.scalar("U")
    dy = jvp(y, tangents)
    cts = sg.vjp(y, list(tangents), u)
    rng = np.random.default_rng(1)
    sizes = random_sizes([y, dy, u], rng)
    env = random_env([y, dy, u, *cts], sizes, rng)
    lhs = float(np.sum(env[u] * sg.evaluate(dy, env, sizes)))
    rhs = sum(float(np.sum(sg.evaluate(c, env, sizes) * env[t]))
              for c, t in zip(cts, tangents.values()))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))


def test_product_rule_form_is_kept_when_shorter():
    assert str(jvp(x @ A @ x, {x: dx}, simplify=False)) == "dxᵀ A x + xᵀ A dx"


@pytest.mark.parametrize("tangents,err", [
    ({x: dA}, sg.ShapeError),                # the tangent must have the variable's shape
    ({A @ x: dx}, sg.DifferentiationError),  # keys are variables
    ([dx], sg.ExpressionTypeError),          # a dict, not a list
])
def test_bad_tangents(tangents, err):
    with pytest.raises(err):
        jvp(x @ A @ x, tangents)
