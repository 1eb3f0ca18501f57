"""Figures for tensors of any order (issue 12): derivation time and printed size for multi-head
attention and a 3-layer batched MLP; generated-code speed of the batched MLP (batch 64,
sequence 128, width 256) against hand-written NumPy and torch.autograd (one run each)."""

from __future__ import annotations

import time

import numpy as np

import symgrad as sg


def mlp(layers: int = 3):
    B, T, d = sg.dims("B T d")
    X = sg.tensor("X", B, T, d)
    Ws = [sg.matrix(f"W_{i}", d, d) for i in range(1, layers + 1)]
    bs = [sg.vector(f"b_{i}", d) for i in range(1, layers + 1)]
    h = X
    for W, b in zip(Ws, bs):
        h = sg.tanh(h @ W + b)
    return sg.sum(h ** 2), Ws + bs, X


def attention():
    T, d, H, e = sg.dims("T d H e")
    X = sg.matrix("X", T, d)
    Wq, Wk, Wv = (sg.tensor(w, d, H, e) for w in ("W_q", "W_k", "W_v"))
    Q, K, V = (sg.name(c, sg.einsum("td,dhe->hte", X, M)) for c, M in
               zip("QKV", (Wq, Wk, Wv)))
    S = sg.name("S", sg.softmax(Q @ sg.swapaxes(K, -1, -2) / sg.sqrt(e), axis=-1))
    out = sg.reshape(sg.transpose(S @ V, (1, 0, 2)), (T, H * e))
    return sg.sum(out ** 2), [Wq, Wk, Wv]


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def main() -> dict:
    figures = {}
    for name, (L, wrt, *_) in (("attention", attention()), ("mlp3", mlp())):
        gs, dt = timed(lambda L=L, wrt=wrt: sg.grad(L, wrt))
        text = sg.latex(gs[0])
        figures[name] = (dt, len(text))
        print(f"{name}: derivation {dt * 1e3:.0f} ms; printed d/d{wrt[0].params.name}: "
              f"{len(text)} characters")
    L, params, X = mlp()
    f = sg.lambdify([L, *sg.grad(L, params)], [X, *params])
    rng = np.random.default_rng(0)
    Bn, Tn, dn = 64, 128, 256
    xv = rng.normal(size=(Bn, Tn, dn)) / 4
    Wv = [rng.normal(size=(dn, dn)) / 16 for _ in range(3)]
    bv = [rng.normal(size=dn) / 4 for _ in range(3)]

    def by_hand():  # as an expert writes it: the batch axes flattened into one GEMM
        hs, h = [xv.reshape(-1, dn)], xv.reshape(-1, dn)
        for W, b in zip(Wv, bv):
            h = np.tanh(h @ W + b)
            hs.append(h)
        g = 2 * h
        gW, gb = [], []
        for i in range(2, -1, -1):
            g = g * (1 - hs[i + 1] ** 2)
            gW.append(hs[i].T @ g)
            gb.append(g.sum(axis=0))
            g = g @ Wv[i].T
        return np.sum(h ** 2), gW, gb

    def by_torch():
        import torch

        ts = [torch.tensor(a, requires_grad=True) for a in Wv + bv]
        h = torch.tensor(xv)
        for W, b in zip(ts[:3], ts[3:]):
            h = torch.tanh(h @ W + b)
        loss = (h ** 2).sum()
        loss.backward()
        return loss

    args = [xv, *Wv, *bv]
    outs = f(*args)
    ref = by_hand()
    assert np.allclose(outs[0], ref[0]) and np.allclose(outs[1], ref[1][2])
    for label, run in (("generated", lambda: f(*args)), ("numpy", by_hand),
                       ("torch", by_torch)):
        run()  # warm
        _, dt = timed(run)
        figures[label] = dt
    print(f"batched MLP 64x128x256, forward + gradients: generated NumPy "
          f"{figures['generated'] * 1e3:.0f} ms, hand-written NumPy {figures['numpy'] * 1e3:.0f}"
          f" ms ({figures['generated'] / figures['numpy']:.2f}x), torch.autograd "
          f"{figures['torch'] * 1e3:.0f} ms ({figures['generated'] / figures['torch']:.2f}x)")
    return figures


if __name__ == "__main__":
    main()
