"""Rewrite-cycle hunt: random expressions mixing scalar constants, abs, softplus, relu, sigmoid
and subtraction (the mix that used to raise "rules on sub rewrite in a cycle"), differentiated
and simplified; counts the internal errors and non-idempotent results.

    python benchmarks/rewrite_cycles.py [seed] [count]
"""

from __future__ import annotations

import sys
import time

import numpy as np

import symgrad as sg

CONSTANTS = [-1.5, 0.5, 2, -1, 3, 0.1]
UNARY = [lambda a: -a, sg.abs, sg.softplus, sg.relu, sg.sigmoid, sg.tanh,
         lambda a: sg.exp(sg.tanh(a))]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
          lambda a, b: a / (1 + b * b)]


def expression(rng: np.random.Generator, depth: int, leaves: list) -> sg.Node:
    r = rng.integers(0, 10)
    if depth == 0 or r < 2:
        return leaves[rng.integers(len(leaves))]
    if r < 5:
        return UNARY[rng.integers(len(UNARY))](expression(rng, depth - 1, leaves))
    if r < 9:
        a = expression(rng, depth - 1, leaves)
        b = expression(rng, depth - 1, leaves)
        if rng.random() < 0.3:
            a = CONSTANTS[rng.integers(len(CONSTANTS))] * leaves[0]
        return BINARY[rng.integers(len(BINARY))](a, b)
    return CONSTANTS[rng.integers(len(CONSTANTS))] - expression(rng, depth - 1, leaves)


def main(seed: int = 0, count: int = 2000) -> int:
    rng = np.random.default_rng(seed)
    s, lam = sg.scalar("s"), sg.scalar("lam")
    x = sg.vector("x", sg.dims("n"))
    bad, start = 0, time.perf_counter()
    for _ in range(count):
        leaves = [s, lam] + ([x, sg.sum(x)] if rng.random() < 0.5 else [])
        e = expression(rng, 4, leaves)
        try:
            g = sg.grad(e if e.ndim == 0 else sg.sum(e), [s, lam])
            if any(sg.simplify(h) is not h for h in g):
                raise AssertionError("simplify is not idempotent")
        except Exception as exc:  # noqa: BLE001 -- counted and shown
            bad += 1
            if bad <= 5:
                print(f"{type(exc).__name__}: {exc} | {e}")
    print(f"{count} expressions, {bad} rewrite failures, {time.perf_counter() - start:.1f} s")
    return bad


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    raise SystemExit(1 if main(*args) else 0)
