"""The founding case: a bias broadcast across a layer, in both orientations.

W X ⊕ b (features on rows) becomes W X + b 1ₖᵀ, and the gradient w.r.t. b is the row sums
G 1ₖ of the upstream gradient, not k·G. With the batch on rows, X W ⊕ c becomes X W + 1_N cᵀ
and the gradient w.r.t. c is the column sums Gᵀ 1_N.
"""

import numpy as np

import symgrad as sg

n, m, k, N, d = sg.dims("n m k N d")

# Features on rows: b is an (n, 1) column broadcast across the k columns.
W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
b = sg.matrix("b", n, 1)
f = sg.name("f", W @ X + b)
explicit_form = sg.latex(sg.explicit(W @ X + b))
grad_b = sg.grad(f, b)  # against the symbolic upstream gradient ∂L/∂f
grad_W = sg.grad(f, W)
print("f =", explicit_form)
print(r"\frac{\partial L}{\partial b} =", sg.latex(grad_b))
print(r"\frac{\partial L}{\partial W} =", sg.latex(grad_W))

# Batch on rows: c is a 1-D vector broadcast down the N rows.
Xb, Wb = sg.matrix("X", N, m), sg.matrix("W", m, d)
c = sg.vector("c", d)
g = sg.name("g", Xb @ Wb + c)
explicit_rows = sg.latex(sg.explicit(Xb @ Wb + c))
grad_c = sg.grad(g, c)
print("g =", explicit_rows)
print(r"\frac{\partial L}{\partial c} =", sg.latex(grad_c))

assert explicit_form == r"W X + b \mathbf{1}_{k}^{\top}"
assert sg.latex(grad_b) == r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"
assert sg.latex(grad_W) == r"\frac{\partial L}{\partial f} X^{\top}"
assert explicit_rows == r"X W + \mathbf{1}_{N} c^{\top}"
assert sg.latex(grad_c) == r"\left(\frac{\partial L}{\partial g}\right)^{\top} \mathbf{1}_{N}"

# The numbers agree: the bias gradient is the column sums of the upstream gradient.
rng = np.random.default_rng(0)
G = rng.normal(size=(6, 3))
value = sg.evaluate(grad_c, {"dL/dg": G, "X": rng.normal(size=(6, 4)),
                             "W": rng.normal(size=(4, 3)), "c": rng.normal(size=3)})
assert np.allclose(value, G.sum(axis=0))
assert not np.allclose(value, 6 * G[0])  # the often-printed N·∂L/∂g is not it
assert sg.gradcheck(sg.sum(sg.tanh(Xb @ Wb + c)), [Wb, c]).ok
