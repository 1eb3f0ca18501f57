"""Generated code: a derived loss and its gradients as a plain NumPy function.

`sg.lambdify` compiles the derivation into straight-line code (printed below): shared
subexpressions are computed once, biases broadcast implicitly, sums of the back-propagated
signal are `.sum(axis=0)`, and softmax cross-entropy is max-shifted, so logits of 1e3 are fine.
`sg.codegen(..., backend="torch")` gives the same function for PyTorch, as text to paste.
"""

import numpy as np

import symgrad as sg

N, d, h, c = sg.dims("N d h c")
X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)  # Y: one-hot labels
W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)

H = sg.name("H", sg.tanh(X @ W1 + b1))
Z = sg.name("Z", H @ W2 + b2)  # logits
L = sg.mean(sg.sum(Y * (sg.logsumexp(Z, axis=1, keepdims=True) - Z), axis=1))  # cross-entropy

params = [W1, b1, W2, b2]
f = sg.lambdify([L, *sg.grad(L, params)], [*params, X, Y], name="loss_and_grad",
                names=["L", "dW1", "db1", "dW2", "db2"])
print(f.source)

rng = np.random.default_rng(0)
n_, d_, h_, c_ = 8, 5, 6, 3
values = {"W1": rng.normal(size=(d_, h_)), "b1": rng.normal(size=h_),
          "W2": rng.normal(size=(h_, c_)), "b2": rng.normal(size=c_),
          "X": rng.normal(size=(n_, d_)), "Y": np.eye(c_)[rng.integers(0, c_, n_)]}
out = f(*values.values())

# The generated code computes what symgrad's reference evaluator computes ...
ref = sg.evaluate([L, *sg.grad(L, params)], values)
assert all(np.allclose(a, b, rtol=1e-12, atol=1e-12) for a, b in zip(out, ref))

# ... and what a hand-written backward pass computes.
Hv = np.tanh(values["X"] @ values["W1"] + values["b1"])
Zv = Hv @ values["W2"] + values["b2"]
P = np.exp(Zv - Zv.max(axis=1, keepdims=True))
P /= P.sum(axis=1, keepdims=True)
dZ = (P - values["Y"]) / n_
dH = (dZ @ values["W2"].T) * (1 - Hv**2)
hand = [Hv.T @ dZ, dZ.sum(axis=0), values["X"].T @ dH, dH.sum(axis=0)]
for got, want in zip(out[1:], [hand[2], hand[3], hand[0], hand[1]]):
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)

# Logits of 1e3: finite loss and gradients (max-shifted logsumexp and softmax).
big = dict(values, W2=1e3 * values["W2"])
assert all(np.all(np.isfinite(v)) for v in f(*big.values()))

# The source needs only NumPy: it carries no reference to symgrad.
assert "symgrad" not in f.source.split('"""')[2] and "import numpy as np" in f.source
assert "np.ones" not in f.source and "broadcast_to" not in f.source  # biases broadcast
assert "H.T @" in f.source  # transposes are views
print(sg.codegen([L, *sg.grad(L, params)], [*params, X, Y], backend="torch",
                 name="loss_and_grad").split('"""')[2])
