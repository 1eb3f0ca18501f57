"""Gradients of a 2-layer tanh MLP with biases broadcast down the rows (batch on rows)."""

import symgrad as sg

N, d, h, c = sg.dims("N d h c")
X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)

H1 = sg.name("H1", sg.tanh(X @ W1 + b1))
out = sg.name("Z2", H1 @ W2 + b2)
L = sg.mean((out - Y) ** 2)

params = [W1, b1, W2, b2]
grads = sg.grad(L, params)
for p, g in zip(params, grads):
    print(rf"\frac{{\partial L}}{{\partial {sg.latex(p)}}} = {sg.latex(g)}")

report = sg.gradcheck(L, params)
print(report)
assert report.ok
# Bias gradients are column sums (...)ᵀ 1_N of the back-propagated signal.
assert sg.latex(grads[3]) == r"\frac{2}{N c} (Z_{2} - Y)^{\top} \mathbf{1}_{N}"
assert sg.latex(grads[1]).endswith(r")^{\top} \mathbf{1}_{N}")
assert sg.latex(grads[2]) == r"\frac{2}{N c} H_{1}^{\top} (Z_{2} - Y)"
