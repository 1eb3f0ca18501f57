"""Figures for issue 5: each Hessian (and Jacobian) of the issue, derived and measured.

For every case: the derivation time of sg.hessian / sg.jacobian (cold: the first call in this
process; warm: the median of --repeats further calls, which reuse interned nodes), and the size
of the result against the textbook form built by hand: DAG nodes (symgrad.node.topo) and the
length of the LaTeX. The target is "no larger". Each result is also checked to equal the
textbook form in value at a random point.

Usage:  python benchmarks/hessian_figures.py [--repeats N] [--strict]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def cases():
    """(label, kind, build(): (expression, wrt), textbook form built by hand)."""
    import symgrad as sg

    n, m = sg.dims("n m")
    x, y = sg.vector("x", n), sg.vector("y", n)
    A, Am, b = sg.matrix("A", n, n), sg.matrix("A", m, n), sg.vector("b", m)
    X, w, yl = sg.matrix("X", m, n), sg.vector("w", n), sg.vector("y", m)
    ypm = sg.vector("y", m, labels="pm1")
    z, zpm = sg.name("z", yl * (X @ w)), sg.name("z", ypm * (X @ w))
    s = sg.name("s", sg.softmax(x))
    Xm, C = sg.matrix("X", n, m), sg.matrix("C", n, n)
    W, P, Q = sg.matrix("W", m, n), sg.matrix("P", m, n), sg.matrix("Q", m, m)

    def sig_prime(t):
        return sg.sigmoid(t) * (1 - sg.sigmoid(t))

    return [
        ("H: xᵀAx", "hessian", lambda: (x @ A @ x, x), A + A.T),
        ("H: ‖Ax - b‖²", "hessian", lambda: (sg.norm(Am @ x - b) ** 2, x), 2 * (Am.T @ Am)),
        ("H: sum exp(Ax)", "hessian", lambda: (sg.sum(sg.exp(Am @ x)), x),
         Am.T @ (sg.diag(sg.exp(Am @ x)) @ Am)),
        ("H: logistic loss", "hessian", lambda: (sg.sum(sg.log(1 + sg.exp(-z))), w),
         X.T @ (sg.diag(yl ** 2 * sig_prime(z)) @ X)),
        ("H: logistic, ±1 labels", "hessian",
         lambda: (sg.sum(sg.log(1 + sg.exp(-zpm))), w), X.T @ (sg.diag(sig_prime(zpm)) @ X)),
        ("H: softmax cross-entropy", "hessian", lambda: (-sg.sum(y * sg.log(s)), x),
         sg.sum(y) * (sg.diag(s) - sg.outer(s, s))),
        ("H: tr(XᵀCX), vec X", "hessian", lambda: (sg.trace(Xm.T @ C @ Xm), sg.vec(Xm)),
         sg.kron(sg.eye(m), C + C.T)),
        ("J: A x", "jacobian", lambda: (Am @ x, x), Am),
        ("J: xᵀA", "jacobian", lambda: (x @ Am.T, x), Am),
        ("J: tanh(Wx + b)", "jacobian", lambda: (sg.tanh(W @ x + b), x),
         sg.diag(1 - sg.tanh(W @ x + b) ** 2) @ W),
        ("J: softmax", "jacobian", lambda: (s, x), sg.diag(s) - sg.outer(s, s)),
        ("J: x ⊙ y", "jacobian", lambda: (x * y, x), sg.diag(y)),
        ("J: σ(x)", "jacobian", lambda: (sg.sigmoid(x), x), sg.diag(sig_prime(x))),
        ("J: vec(PXQ), vec X", "jacobian",
         lambda: (sg.vec(P @ Xm @ Q), sg.vec(Xm)), sg.kron(Q.T, P)),
    ]


def size(e) -> tuple[int, int]:
    import symgrad as sg
    from symgrad.node import topo

    return len(topo(e)), len(sg.latex(e))


def same_value(a, b, seed: int = 0) -> bool:
    import symgrad as sg
    from symgrad.testing import random_env, random_sizes

    rng = np.random.default_rng(seed)
    sizes = random_sizes([a, b], rng)
    env = random_env([a, b], sizes, rng)
    va, vb = sg.evaluate([a, b], env, sizes)
    return bool(np.allclose(va, vb, rtol=1e-10, atol=1e-10))


def measure(label, kind, build, textbook, repeats: int) -> dict:
    import symgrad as sg

    fn = sg.hessian if kind == "hessian" else sg.jacobian
    expr, wrt = build()
    t0 = time.perf_counter()
    result = fn(expr, wrt)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(expr, wrt)
        warm.append(time.perf_counter() - t0)
    nodes, chars = size(result)
    t_nodes, t_chars = size(textbook)
    return {
        "label": label, "cold_ms": 1e3 * cold,
        "warm_ms": 1e3 * statistics.median(warm) if warm else float("nan"),
        "nodes": nodes, "chars": chars, "textbook_nodes": t_nodes, "textbook_chars": t_chars,
        "no_larger": nodes <= t_nodes and chars <= t_chars,
        "same_value": same_value(result, textbook),
        "latex": sg.latex(result),
    }


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--strict", action="store_true", help="exit 1 unless every target holds")
    args = ap.parse_args(argv)
    rows = [measure(*c, repeats=args.repeats) for c in cases()]
    head = f"{'case':28} {'cold ms':>8} {'warm ms':>8} {'nodes':>11} {'LaTeX chars':>13}  ok"
    print(head)
    print("-" * len(head))
    for r in rows:
        ok = "yes" if r["no_larger"] and r["same_value"] else "NO"
        print(f"{r['label']:28} {r['cold_ms']:8.1f} {r['warm_ms']:8.1f} "
              f"{r['nodes']:>4} / {r['textbook_nodes']:<4} {r['chars']:>5} / "
              f"{r['textbook_chars']:<5}  {ok}")
    print("(nodes and chars: symgrad's result / the textbook form built by hand; "
          "ok: no larger and equal in value)")
    for r in rows:
        print(f"  {r['label']}: {r['latex']}")
    if args.strict and not all(r["no_larger"] and r["same_value"] for r in rows):
        sys.exit(1)
    return rows


if __name__ == "__main__":
    main()
