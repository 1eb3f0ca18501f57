"""Core pieces the derivations rely on: marked broadcasts, row products on the right of a
product, and inner products that simplify (regressions of bugs found while building sg.derive)."""

import gc

import numpy as np

import symgrad as sg

n, m, k = sg.dims("n m k")
x, y, r = sg.vector("x", n), sg.vector("y", n), sg.vector("r", n)
A = sg.matrix("A", n, n)


def test_marked_broadcasts():
    W, X, b = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("b", n, 1)
    assert sg.latex(W @ X + b, mark_broadcasts=True) == r"W X \oplus b"
    assert sg.latex(W @ X - b, mark_broadcasts=True) == r"W X \ominus b"
    assert sg.latex(W @ X + b) == r"W X + b \mathbf{1}_{k}^{\top}"  # the default is explicit
    assert sg.latex(W @ X + 2, mark_broadcasts=True) == "W X + 2"  # scalars are not marked
    s = sg.matrix("s", n, k)
    assert sg.latex(s * b, mark_broadcasts=True) == r"s \odot (b \mathbf{1}_{k}^{\top})"


def test_row_product_on_the_right_prints_as_a_column():
    # x @ (y @ A) is xᵀ (Aᵀ y); it printed "x^T y^T A", which reads as a 1×n times 1×n product
    assert sg.latex(x @ (y @ A)) == r"x^{\top} A^{\top} y"
    assert sg.latex(A @ (y @ A)) == r"A A^{\top} y"
    assert sg.latex(x @ A @ y) == r"x^{\top} A y"  # on the left it stays a row


def test_reordered_inner_products_simplify():
    # 2‖r‖ · xᵀ(r/‖r‖): the reordered rᵀx atom used to be garbage-collected mid-normalize,
    # so the norms did not cancel
    s = sg.norm(r)
    e = (2 * s) * (x @ (r / s))
    gc.collect()
    out = sg.simplify(e)
    assert sg.latex(out) in (r"2 r^{\top} x", r"2 x^{\top} r")
    env = {"x": np.arange(1.0, 4.0), "r": np.array([0.5, -1.0, 2.0])}
    assert np.isclose(sg.evaluate(out, env), sg.evaluate(e, env))
