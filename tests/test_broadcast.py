"""The founding case: a bias broadcast across a matrix, made explicit and differentiated."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.ops.core import variable

n, m, k, N, d = sg.dims("n m k N d")


def test_column_bias_explicit_and_gradient():
    W, X, G = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("G", n, k)
    b = sg.matrix("b", n, 1)
    f = W @ X + b
    assert sg.latex(sg.explicit(f)) == r"W X + b \mathbf{1}_{k}^{\top}"
    assert str(sg.explicit(f)) == "W X + b 1ₖᵀ"
    g = sg.grad(sg.sum(G * f), b)
    assert sg.latex(g) == r"G \mathbf{1}_{k}"
    assert sg.latex(sg.grad(f, b)) == r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"


def test_row_batch_bias_is_column_sums():
    X, W, G = sg.matrix("X", N, m), sg.matrix("W", m, d), sg.matrix("G", N, d)
    c = sg.vector("c", d)
    f = X @ W + c
    assert sg.latex(sg.explicit(f)) == r"X W + \mathbf{1}_{N} c^{\top}"
    assert sg.latex(sg.grad(sg.sum(G * f), c)) == r"G^{\top} \mathbf{1}_{N}"
    assert sg.latex(sg.grad(f, c)) == \
        r"\left(\frac{\partial L}{\partial f}\right)^{\top} \mathbf{1}_{N}"


def test_bias_gradient_is_a_sum_not_a_multiple():
    """The often-printed n·∂L/∂f is wrong: the gradient is the sum over the broadcast axis."""
    W, X, G = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("G", n, k)
    b = sg.matrix("b", n, 1)
    g = sg.grad(sg.sum(G * (W @ X + b)), b)
    rng = np.random.default_rng(0)
    Gv = rng.normal(size=(3, 5))
    env = {"G": Gv, "W": np.ones((3, 2)), "X": np.ones((2, 5)), "b": np.ones((3, 1))}
    got = sg.evaluate(g, env)
    np.testing.assert_allclose(got, Gv.sum(axis=1, keepdims=True))


def test_named_intermediate_gives_the_upstream_its_name():
    W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
    b = sg.matrix("b", n, 1)
    z = sg.name("z", W @ X + b)
    assert sg.latex(sg.grad(z, b)) == r"\frac{\partial L}{\partial z} \mathbf{1}_{k}"
    assert sg.latex(sg.grad(z, W)) == r"\frac{\partial L}{\partial z} X^{\top}"
    assert sg.latex(sg.tanh(z)) == r"\tanh(z)"


def test_scalar_broadcast_explicit():
    s = sg.scalar("s")
    A = sg.matrix("A", n, k)
    assert sg.latex(sg.explicit(A + sg.broadcast_to(s, (n, k)))) == \
        r"A + s \mathbf{1}_{n} \mathbf{1}_{k}^{\top}"
    assert sg.latex(sg.grad(sg.sum(A * (A + s)), s)) == r"\mathbf{1}_{n}^{\top} A \mathbf{1}_{k}"


def test_sums_explicit():
    G = sg.matrix("G", n, k)
    assert sg.latex(sg.explicit(sg.sum(G, axis=1))) == r"G \mathbf{1}_{k}"
    assert sg.latex(sg.explicit(sg.sum(G, axis=0))) == r"G^{\top} \mathbf{1}_{n}"
    assert sg.latex(sg.explicit(sg.sum(G, axis=0, keepdims=True))) == \
        r"\mathbf{1}_{n}^{\top} G"
    assert sg.latex(sg.explicit(sg.sum(G))) == r"\mathbf{1}_{n}^{\top} G \mathbf{1}_{k}"


@pytest.mark.parametrize("shape", [(), (4,), (1, 4), (3, 1), (3, 4), (1, 1)])
def test_explicit_broadcast_values(shape):
    v = variable("v", *shape)
    M = sg.matrix("M", 3, 4)
    rng = np.random.default_rng(1)
    env = {"v": rng.normal(size=shape), "M": rng.normal(size=(3, 4))}
    for f in (M + v, M * v, M - v):
        e = sg.explicit(f)
        np.testing.assert_allclose(sg.evaluate(e, env), sg.evaluate(f, env))
        np.testing.assert_allclose(sg.evaluate(sg.simplify(e), env), sg.evaluate(f, env))
