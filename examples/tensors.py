"""Tensors of any order: the seed's 3-D broadcast, a batched linear layer with a shared bias,
multi-head attention with heads as an axis, a batched quadratic form and a 1-D convolution
written with einsum. Results of at most two axes print per slice where they can (X_{i} is the
i-th slice along the leading axis: sum_i X_iᵀ G_i); the others in index
notation: [entry]_{ijk}."""

import numpy as np

import symgrad as sg

rng = np.random.default_rng(0)

# ---- the seed: A (2, 3) + Z (4, 2, 3); the gradient w.r.t. A sums over the broadcast axis -----
B, n, k = sg.dims("B n k")
A, Z = sg.matrix("A", n, k), sg.tensor("Z", B, n, k)
f = sg.name("f", Z + A)
grad_A = sg.grad(f, A)
print("f =", sg.latex(sg.explicit(Z + A)))
print(r"\frac{\partial L}{\partial A} =", sg.latex(grad_A))
G = rng.normal(size=(4, 2, 3))
assert np.allclose(sg.evaluate(grad_A, {"dL/df": G}), G.sum(axis=0))
assert sg.latex(sg.explicit(Z + A)) == r"\left[ Z_{ijl} + A_{jl} \right]_{ijl}"
assert sg.latex(grad_A) == r"\sum_{i=1}^{B} \left(\frac{\partial L}{\partial f}\right)_{i}"

# ---- a batched linear layer X W + b with the bias shared by every sequence and position ------
T, d, h = sg.dims("T d h")
X, W, b = sg.tensor("X", B, T, d), sg.matrix("W", d, h), sg.vector("b", h)
L = sg.sum(sg.tanh(X @ W + b) ** 2)
grad_W, grad_b = sg.grad(L, [W, b])
print(sg.latex({W: grad_W, b: grad_b}))  # one display: the named parts shared
assert grad_W.shape == (d, h) and grad_b.shape == (h,)
# per slice, the activation named once: H_{i} &= \tanh(X_{i} W + 1_T b^T), then
# \sum_{i=1}^{B} 2 X_{i}^\top (H_{i} \odot (1 - H_{i}^{\circ 2}))
assert r"H_{i} &= \tanh(X_{i} W + \mathbf{1}_{T} b^{\top})" in sg.latex(grad_W)
assert sg.gradcheck(L, [W, b, X]).ok

# ---- multi-head attention, heads as an axis: W_q (d, H, e) maps X (T, d) to Q (H, T, e) ------
H, e = sg.dims("H e")
Xs = sg.matrix("X_s", T, d)
Wq, Wk, Wv = (sg.tensor(w, d, H, e) for w in ("W_q", "W_k", "W_v"))
Q, K, V = (sg.name(c, sg.einsum("td,dhe->hte", Xs, M)) for c, M in zip("QKV", (Wq, Wk, Wv)))
S = sg.name("S", sg.softmax(Q @ sg.swapaxes(K, -1, -2) / sg.sqrt(e), axis=-1))  # (H, T, T)
attn = sg.reshape(sg.transpose(S @ V, (1, 0, 2)), (T, H * e))  # heads merged: (T, H e)
loss = sg.sum(attn ** 2)
grad_Wq = sg.grad(loss, Wq)
assert grad_Wq.shape == (d, H, e)
assert sg.gradcheck(loss, [Wq, Wk, Wv, Xs]).ok
print(r"\frac{\partial L}{\partial W_q} =", sg.latex(grad_Wq))

# ---- a batched quadratic form x_i^T A x_i -------------------------------------------------
xs, M = sg.matrix("x", B, n), sg.matrix("M", n, n)
quad = sg.einsum("bi,ij,bj->b", xs, M, xs)
grad_M = sg.grad(sg.sum(quad), M)
print(r"\frac{\partial}{\partial M} \sum_b x_b^\top M x_b =", sg.latex(grad_M))
xv = rng.normal(size=(5, 3))
assert np.allclose(sg.evaluate(grad_M, {"x": xv, "M": rng.normal(size=(3, 3))}), xv.T @ xv)

# ---- a 1-D convolution as an einsum over a window of shifted copies -------------------------
# y[b, t, o] = sum_{w, c} P[b, t, w, c] K[w, c, o] with P the (patches) of the input.
P = sg.tensor("P", B, T, 3, d)
Kc = sg.tensor("K", 3, d, h)
y = sg.einsum("btwc,wco->bto", P, Kc)
grad_K = sg.grad(sg.sum(sg.relu(y)), Kc)
print(r"\frac{\partial L}{\partial K} =", sg.latex(grad_K))
sig = rng.normal(size=(2, 8, 4))  # a signal (batch 2, length 8, 4 channels)
patches = np.stack([sig[:, i:i + 6] for i in range(3)], axis=2)  # (2, 6, 3, 4)
kern = rng.normal(size=(3, 4, 5))
ref = sum(sig[:, i:i + 6] @ kern[i] for i in range(3))  # the convolution, directly
assert np.allclose(sg.evaluate(y, {"P": patches, "K": kern}), ref)
assert sg.gradcheck(sg.sum(sg.relu(y)), [Kc]).ok

# ---- the batched layer's derivation, slice by slice (X_i the i-th T×d slice of X) ------------
steps = sg.derive(L, [W, b])
print(steps)
assert steps.verify().ok  # every step checked at random arrays, slice by slice
assert r"\frac{\partial L}{\partial W} = \sum_{i=1}^{B} X_{i}^{\top} \bar{Z}_{1,i}" in steps.lines()
