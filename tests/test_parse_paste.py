"""LaTeX as pasted from a paper: math delimiters, intermediate definitions, declared structure."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.latex_in.build import LatexAssumptionWarning

QUAD = "x: n, A: n×n"


@pytest.mark.parametrize("wrapped", [
    r"$x^\top A x$", r"$$ x^\top A x $$", r"\[x^\top A x\]", r"\(x^\top A x\)",
    r"\begin{equation} x^\top A x \label{eq:q} \end{equation}",
    r"\begin{equation*}x^\top A x.\end{equation*}", r"\begin{align*} x^\top A x \\ \end{align*}",
    r"$\begin{equation}x^\top A x\end{equation}$",
])
def test_delimiters_are_ignored(wrapped):
    assert sg.parse(wrapped, QUAD) is sg.parse(r"x^\top A x", QUAD)


def test_delimiters_keep_error_columns():
    with pytest.raises(sg.UnknownSymbolError) as info:
        sg.parse(r"$x^\top A q$", QUAD)
    assert info.value.column == 11 and info.value.names == ("q",)
    for two in [r"$x^\top A x$ + $x$", r"\[ x^\top A x \] \[ x \]", r"\( x \) + \( x \)"]:
        with pytest.raises(sg.LatexSyntaxError):  # two formulas are not one
            sg.parse(two, QUAD)


def test_claims_with_delimiters_are_checked():
    v = sg.check(r"$-X^{-\top}$", r"\[-\log\det X\]", "X", "X: n×n")
    assert v.ok


def test_intermediate_definitions_are_named_and_evaluate():
    out = sg.parse(r"A = \operatorname{softmax}_{\mathrm{row}}(Q K^\top), \; O = A V",
                 "Q: n×d, K: n×d, V: n×d")
    assert str(out) == "O" and str(out.args[0]) == "A V"
    rng = np.random.default_rng(0)
    Q, K, V = (rng.normal(size=(4, 3)) for _ in range(3))
    S = Q @ K.T
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    got = sg.evaluate(out, {"Q": Q, "K": K, "V": V})
    assert np.allclose(got, P @ V)
    assert str(sg.grad(out, sg.matrix("V", *out.shape))) == "Aᵀ ∂L/∂O"


def test_definitions_in_any_order_and_after_the_result():
    chain = sg.parse(r"h = \tanh(z), \; z = W x, \; L = \mathbf{1}^\top h", "W: n×m, x: m")
    rng = np.random.default_rng(1)
    W, x = rng.normal(size=(3, 2)), rng.normal(size=2)
    assert np.isclose(sg.evaluate(chain, {"W": W, "x": x}), np.tanh(W @ x).sum())
    assert sg.parse(r"x^\top M, \quad M = \mathbf{1}_n", {"x": ("n",)}).op.name == "matmul"
    with pytest.raises(sg.LatexSyntaxError, match="circle"):
        sg.parse(r"A = B + X, \; B = A X", "X: n×n")


def test_structure_in_the_shapes_string():
    S = sg.parse("S", "S: n×n symmetric")
    assert S.params[2] == "symmetric"
    y = sg.parse("y", "y: n pm1")
    assert y.params[2] == "pm1"
    with pytest.raises(sg.SizeError, match="square"):
        sg.parse("S", "S: n symmetric")


def test_founding_case_hint_in_the_library():
    n, m, k = sg.dims("n m k")
    W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
    with pytest.raises(sg.ShapeError, match=r"did you mean b: n×1 \(a column broadcast "
                                            r"across the k columns\)\?"):
        W @ X + sg.vector("b", n)
    with pytest.raises(sg.ShapeError) as info:  # no hint where it would not help
        W @ X + sg.vector("c", m)
    assert "did you mean" not in str(info.value)


def test_warnings_point_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sg.parse(r"\operatorname{softmax}(X)", "X: n×m")
    (w,) = caught
    assert issubclass(w.category, LatexAssumptionWarning) and w.filename == __file__
