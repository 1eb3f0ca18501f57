"""Per-slice matrix notation (symgrad/slices.py): tensor results of order <= 2 print as matrix
expressions of slices summed over the batch (\\sum_{i=1}^{B} X_{i}^\\top G_{i}), their shared
per-slice parts named (H_{i} &= ...), and the displays parse back to their value; expressions
with no per-slice form keep index notation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_benchmark
from faithful import HAS_PDFLATEX, compile_errors, reparse_error
from hypothesis import given
from strategies import ci_examples, seeds, tensor_expressions

import symgrad as sg
from symgrad.cli_output import named_intermediates
from symgrad.display import parse_display
from symgrad.numeric import variables
from symgrad.ops.core import variable
from symgrad.printing import LATEX
from symgrad.shared import name_shared

B, T, d, h, n, k = sg.dims("B T d h n k")
RNG = np.random.default_rng(12)


def _layer():
    X, W, b = sg.tensor("X", B, T, d), sg.matrix("W", d, h), sg.vector("b", h)
    return X, W, b, sg.sum(sg.tanh(X @ W + b) ** 2)


def _mlp():
    """benchmarks/tensors.py's 3-layer batched MLP: (loss, [W_1, W_2, W_3, b_1, b_2, b_3])."""
    L, params, _ = load_benchmark("tensors").mlp()
    return L, params


def _attention():
    """Multi-head attention with the heads as the leading axis of the weights: W_q (H, d, e)."""
    H, e = sg.dims("H e")
    X = sg.matrix("X", T, d)
    Wq, Wk, Wv = (sg.tensor(w, H, d, e) for w in ("W_q", "W_k", "W_v"))
    Q, K, V = (sg.einsum("td,hde->hte", X, M) for M in (Wq, Wk, Wv))
    S = sg.softmax(Q @ sg.swapaxes(K, -1, -2) / sg.sqrt(e), axis=-1)
    out = sg.reshape(sg.transpose(S @ V, (1, 0, 2)), (T, H * e))
    return sg.sum(out ** 2), X, Wq


# ---- the examples --------------------------------------------------------------------
def test_seed_broadcast_gradient_is_a_sum_of_slices():
    A, Z = sg.matrix("A", n, k), sg.tensor("Z", B, n, k)
    f = sg.name("f", Z + A)
    g = sg.grad(f, A)
    assert sg.latex(g) == r"\sum_{i=1}^{B} \left(\frac{\partial L}{\partial f}\right)_{i}"
    G = RNG.normal(size=(4, 2, 3))
    got = sg.evaluate(sg.parse(sg.latex(g), {"f": ("B", "n", "k"), "A": ("n", "k")}),
                      {"dL/df": G}, {})
    assert np.allclose(got, G.sum(axis=0))
    assert reparse_error(g, 3) is None


def test_batched_layer_gradient_per_slice_with_named_activation():
    X, W, b, L = _layer()
    gW = sg.grad(L, W)
    text = sg.latex(gW)
    assert r"H_{i} &= \tanh(X_{i} W + \mathbf{1}_{T} b^{\top})" in text
    assert r"\sum_{i=1}^{B} 2 X_{i}^{\top}" in text and r"\left[" not in text
    assert reparse_error(gW, 1) is None
    # the printed display, read back, is the sum over the batch of X_i^T G_i (NumPy)
    xv, wv, bv = RNG.normal(size=(3, 4, 5)), RNG.normal(size=(5, 2)), RNG.normal(size=2)
    parsed = sg.parse(text, {"X": ("B", "T", "d"), "W": ("d", "h"), "b": ("h",)})
    Hv = np.tanh(xv @ wv + bv)
    want = sum(xv[i].T @ (2 * Hv[i] * (1 - Hv[i] ** 2)) for i in range(3))
    assert np.allclose(sg.evaluate(parsed, {"X": xv, "W": wv, "b": bv}, {}), want)


def test_display_of_several_gradients_shares_per_slice_parts():
    X, W, b, L = _layer()
    gW, gb = sg.grad(L, [W, b])
    text = sg.latex({W: gW, b: gb})
    assert text.count(r"H_{i} &=") == 1
    assert r"\frac{\partial L}{\partial b} &= 2 \left(\sum_{i=1}^{B}" in text
    rows = parse_display(text, {"X": ("B", "T", "d"), "W": ("d", "h"), "b": ("h",)})
    env = {"X": RNG.normal(size=(3, 4, 5)), "W": RNG.normal(size=(5, 2)),
           "b": RNG.normal(size=2)}
    for (_, got), want in zip(rows, (gW, gb)):
        assert np.allclose(sg.evaluate(got, env, {}), sg.evaluate(want, env, {}))


def test_three_layer_mlp_prints_per_slice_and_shorter():
    L, params = _mlp()
    gs = sg.grad(L, params)
    for g in gs:
        text = sg.latex(g)
        assert r"\sum_{i=1}^{B}" in text and r"\left[" not in text
        assert reparse_error(g, 2, declare=L) is None
    assert len(sg.latex(gs[0])) < 592  # index notation printed 592 characters


def test_multi_head_attention_gradient_per_head():
    L, X, Wq = _attention()
    g = sg.grad(L, X)
    text = sg.latex(g)
    assert r"\sum_{i=1}^{H}" in text and r"\left[" not in text
    assert r"\operatorname{softmax}_{\mathrm{row}}" in text
    assert reparse_error(g, 4) is None
    assert sg.gradcheck(L, [X]).ok


def test_four_axis_arrays_slice_on_two_leading_axes():
    Hd = sg.dims("H")
    X, W = sg.tensor("X", B, Hd, T, d), sg.matrix("W", d, h)
    g = sg.grad(sg.sum(sg.tanh(X @ W) ** 2), W)
    text = sg.latex(g)
    assert text.startswith(r"\sum_{i=1}^{B} \sum_{j=1}^{H} 2 X_{ij}^{\top}")
    assert reparse_error(g, 6) is None


# ---- what falls back to index notation ------------------------------------------------------
def test_no_per_slice_form_keeps_index_notation():
    X, W, b, L = _layer()
    assert sg.latex(sg.grad(L, X)).startswith(r"\left[")  # order 3: index notation
    moved = sg.sum(sg.transpose(X @ W, (1, 0, 2)), axis=(0, 1))  # a sum over T first
    assert reparse_error(moved, 0) is None
    Z = sg.tensor("Z", B, n, k)
    inner = sg.sum(sg.sum(Z, axis=0) @ sg.ones(k))  # fine: a sum over the batch
    assert r"\sum_{i=1}^{B}" in sg.latex(inner) and reparse_error(inner, 0) is None


def test_heads_merged_back_parse_back():
    """The attention loss merges the heads back into features (index formulas): a weight's
    head axis indexed by the head part of the merged index alone reads back."""
    L, _, _ = _attention()
    assert r"\lfloor (j - 1) / e \rfloor + 1" in sg.latex(L)
    assert reparse_error(L, 7) is None


# ---- names never clash ------------------------------------------------------------------------
def test_per_slice_names_avoid_the_sliced_arrays():
    H = sg.tensor("H", B, T, d)
    W = sg.matrix("W", d, h)
    L = sg.sum(sg.tanh(H @ W) ** 2)
    text = sg.latex(sg.grad(L, W))
    assert r"H_{i} &=" not in text and r"\sum_{i=1}^{B}" in text
    assert reparse_error(sg.grad(L, W), 5) is None


# ---- the parser: per-slice definitions and claims ------------------------------------------
SHAPES = {"X": ("B", "T", "d"), "W": ("d", "h")}


def test_hand_written_per_slice_definition_rows():
    text = (r"\begin{aligned} G_{i} &= \tanh(X_{i} W) \\ \frac{\partial L}{\partial W} &= "
            r"\sum_{i=1}^{B} X_{i}^{\top} G_{i} \end{aligned}")
    xv, wv = RNG.normal(size=(3, 4, 5)), RNG.normal(size=(5, 2))
    got = sg.evaluate(sg.parse(text, SHAPES), {"X": xv, "W": wv}, {})
    assert np.allclose(got, sum(xv[i].T @ np.tanh(xv[i] @ wv) for i in range(3)))


def test_per_slice_definition_with_a_loose_index_is_refused():
    text = r"\sum_{i=1}^{B} X_{i}^{\top} G_{i}, \quad G_{i} = X_{j} W"
    with pytest.raises(sg.LatexSyntaxError, match=r"the index j is free"):
        sg.parse(text, SHAPES)


def test_check_judges_printed_per_slice_claims():
    X, W, b, L = _layer()
    claim = sg.latex(sg.grad(L, W))
    assert sg.check(claim, L, W).ok
    wrong = claim.replace(r"\sum_{i=1}^{B} 2 X_{i}", r"\sum_{i=1}^{B} X_{i}")
    assert wrong != claim
    v = sg.check(wrong, L, W)
    assert not v.ok and v.counterexample is not None


def test_unicode_per_slice():
    X, W, b, L = _layer()
    text = sg.unicode(sg.grad(L, W))
    assert "H[i] = tanh(X[i] W + 1_T bᵀ)" in text and "Σ_i 2 X[i]ᵀ" in text


# ---- random batched expressions ----------------------------------------------------------------
@ci_examples(30)
@given(tensor_expressions(), seeds())
def test_random_tensor_gradients_parse_back(e, seed):
    U = variable("U", *e.shape)
    L = sg.sum(U * e)
    for f in sg.grad(L, variables(e)):
        err = reparse_error(f, seed % 1000, declare=L)
        assert err is None, err


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is not installed")
def test_per_slice_displays_compile():
    X, W, b, L = _layer()
    Lm, params = _mlp()
    La, Xa, _ = _attention()
    texts = [sg.latex(dict(zip([W, b], sg.grad(L, [W, b])))),
             sg.latex(dict(zip(params, sg.grad(Lm, params)))), sg.latex(sg.grad(La, Xa))]
    assert compile_errors(texts) == []


def test_cli_lists_per_slice_definitions():
    """`symgrad derive` prints the definitions its rows use: per-slice ones too (H_i)."""
    X, W, b, L = _layer()
    defs, rows = name_shared([sg.grad(L, W)], LATEX)
    listed = named_intermediates(rows, L)
    assert [d.params[0] for d in listed] == [d.params[0] for d in defs] == ["H_i"]
    assert sg.latex(listed[0]) == "H_{i}"
