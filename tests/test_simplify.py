"""simplify(): the textbook goals of the rule table, each checked for value as well as form."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.testing import random_env, random_sizes

n, k = sg.dims("n k")
A, B = sg.matrix("A", n, n), sg.matrix("B", n, n)
M = sg.matrix("M", n, k)
x, y = sg.vector("x", n), sg.vector("y", n)
s, t = sg.scalar("s"), sg.scalar("t")


@pytest.mark.parametrize("expr,want", [
    (A + sg.zeros(n, n), "A"),
    (A * 1 + 0 * B, "A"),
    (A @ sg.eye(n), "A"),
    (sg.eye(n) @ x, "x"),
    (A.T.T, "A"),
    ((A @ B).T, r"B^{\top} A^{\top}"),
    (sg.ones(n) @ sg.ones(n), "n"),
    (sg.trace(sg.eye(n)), "n"),
    (2 * (3 * A), "6 A"),
    (A + A, "2 A"),
    (A - A, r"\mathbf{0}_{n \times n}"),
    (A @ x + A.T @ x, r"(A + A^{\top}) x"),
    (x @ A + A @ x, r"(A + A^{\top}) x"),
    (A @ x + A @ y, "A (x + y)"),
    (s * x / s, "x"),
    (sg.norm(x) * x / sg.norm(x), "x"),
    (sg.sum(2 * M, axis=0), r"2 M^{\top} \mathbf{1}_{n}"),
    (sg.trace(s * A), r"s \operatorname{tr}(A)"),
    ((s * A) @ (t * B), "s t A B"),
    (sg.inv(A.T), r"A^{-\top}"),
    (sg.inv(sg.inv(A)), "A"),
    (M @ sg.ones(k), r"M \mathbf{1}_{k}"),
    (sg.sum(sg.ones(n, k)), "k n"),
    (x * x, r"x^{\circ 2}"),
    (s * s + s, "s^{2} + s"),
])
def test_goal(expr, want):
    got = sg.simplify(expr)
    assert sg.latex(got) == want
    rng = np.random.default_rng(0)
    sizes = random_sizes([expr], rng)
    env = random_env([expr], sizes, rng)
    want_value = sg.evaluate(expr, env, sizes)
    got_value = sg.evaluate(got, env, sizes)
    np.testing.assert_allclose(got_value, np.broadcast_to(want_value, got_value.shape))
    assert sg.simplify(got) is got  # a fixed point


def test_explicit_then_simplify_returns_the_canonical_form():
    b = sg.vector("b", k)
    f = M + b
    assert sg.simplify(sg.explicit(f)) is sg.simplify(f)
    g = sg.sum(M, axis=0)
    assert sg.simplify(sg.explicit(g)) is g


def test_gradients_come_out_simplified():
    L = x @ A @ x
    assert sg.grad(L, x) is sg.simplify(sg.grad(L, x, simplify=False))
    assert sg.latex(sg.grad(L, x, simplify=False)) != sg.latex(sg.grad(L, x))


def test_leading_negative_constant_is_not_a_rewrite_cycle():
    """-1.5 - s/λ: the normal form leads with the number -1.5 (neg(1.5) folded back: a cycle)."""
    s, lam = sg.scalar("s"), sg.scalar("lam")
    e = -1.5 - s / lam
    out = sg.simplify(e)
    assert sg.simplify(out) is out
    env = {"s": 0.7, "lam": -1.3}
    assert np.isclose(sg.evaluate(out, env), -1.5 - 0.7 / -1.3)
    g = sg.grad(sg.softplus(e) * sg.abs(s) - sg.relu(lam), [s, lam])
    assert all(sg.simplify(x) is x for x in g)


def test_leading_negative_size_constant_is_not_a_rewrite_cycle():
    """-3n/2 - t: a negative size constant leads as the number it is (rewrite_cycles seed 1)."""
    s, x = sg.scalar("s"), sg.vector("x", n)
    t = sg.sum(x)
    e = -1.5 * s - (sg.exp(sg.tanh(t)) - (sg.tanh(x) - 0.1 * s / (1 + t * t)))
    g = sg.grad(sg.sum(e), s)
    assert sg.simplify(g) is g
    report = sg.gradcheck(sg.sum(e), s)
    assert report.ok, str(report)
