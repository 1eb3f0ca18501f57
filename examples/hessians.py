"""Jacobians and Hessians in matrix notation, each checked against finite differences."""

import numpy as np

import symgrad as sg
from symgrad.testing import random_env, random_sizes

n, m = sg.dims("n m")
x, w = sg.vector("x", n), sg.vector("w", n)
A, W, X = sg.matrix("A", n, n), sg.matrix("W", m, n), sg.matrix("X", m, n)
b = sg.vector("b", m)
y = sg.vector("y", m, labels="pm1")  # classification labels in {-1, +1}: y ⊙ y = 1
z = sg.name("z", y * (X @ w))


def check(result, f, wrt, grad_of=None):
    """result (a Jacobian, or a Hessian when grad_of is the objective) vs central differences."""
    rng = np.random.default_rng(0)
    sizes = random_sizes([result, f], rng)
    env = random_env([result, f], sizes, rng)
    g = sg.grad(f, wrt) if grad_of else f
    x0, eps, cols = env[wrt].copy(), 1e-6, []
    for k in range(x0.size):
        env[wrt] = x0.copy()
        env[wrt][k] += eps
        hi = sg.evaluate(g, env, sizes)
        env[wrt][k] -= 2 * eps
        cols.append((hi - sg.evaluate(g, env, sizes)) / (2 * eps))
    env[wrt] = x0
    return np.allclose(sg.evaluate(result, env, sizes), np.stack(cols, -1), atol=1e-6)


J = sg.jacobian(sg.tanh(W @ x + b), x)
print(r"\frac{\partial \tanh(W x + b)}{\partial x} =", sg.latex(J))
assert sg.latex(J) == r"\operatorname{diag}(1 - \tanh(W x + b)^{\circ 2}) W"
assert check(J, sg.tanh(W @ x + b), x)

L = sg.sum(sg.log(1 + sg.exp(-z)))  # the logistic loss
H = sg.hessian(L, w)
print(r"\frac{\partial^2 L}{\partial w \partial w^{\top}} =", sg.latex(H))
assert sg.latex(H) == r"X^{\top} \operatorname{diag}(\sigma(z) \odot (1 - \sigma(z))) X"
assert sg.simplify(H.T) is H  # symmetric as an expression
assert check(H, L, w, grad_of=True)

steps = sg.derive(x @ A @ x, x, order=2)  # the second differential, then the Hessian
print(steps.latex())
assert steps.verify().ok
assert sg.latex(sg.hessian(x @ A @ x, x)) == r"A + A^{\top}"

Xm, P, Q = sg.matrix("X", n, m), sg.matrix("P", m, n), sg.matrix("Q", m, m)
K = sg.jacobian(sg.vec(P @ Xm @ Q), sg.vec(Xm))
print(r"\frac{\partial \operatorname{vec}(P X Q)}{\partial \operatorname{vec}(X)^{\top}} =",
      sg.latex(K))
assert sg.latex(K) == r"Q^{\top} \otimes P"
