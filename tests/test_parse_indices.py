"""Index notation read back (symgrad/latex_in/indices.py): printed tensor results parse to their
value (registry tensor cases and random tensor expressions up to rank 4), hand-written index
and per-slice formulas mean what they say, check() judges tensor claims, and malformed index
notation is refused with a clear error."""

from __future__ import annotations

import contextlib
import io
import runpy
from pathlib import Path

import numpy as np
import pytest
from faithful import reparse_error
from hypothesis import given
from strategies import ci_examples, seeds, tensor_expressions

import symgrad as sg
from symgrad.node import topo
from symgrad.numeric import variables
from symgrad.ops import core
from symgrad.ops.core import variable
from symgrad.testing import random_env, random_sizes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

B, n, k, T, d, h = sg.dims("B n k T d h")
SEED = "Z: B×n×k, A: n×k"
LAYER = "X: B×T×d, W: d×h, b: h, G: BxTxh"
RNG = np.random.default_rng(7)
VALUES = {"X": RNG.normal(size=(3, 4, 5)), "W": RNG.normal(size=(5, 6)),
          "G": RNG.normal(size=(3, 4, 6)), "Z": RNG.normal(size=(3, 4, 5)),
          "A": RNG.normal(size=(4, 5)), "b": RNG.normal(size=6)}


def _value(latex: str, shapes: str, **kw) -> np.ndarray:
    return np.asarray(sg.evaluate(sg.parse(latex, shapes, **kw), VALUES, {}))


# ---- printed results parse back to their value ------------------------------------------------
def test_registry_tensor_cases_parse_back(tensor_case):
    """Every tensor case of the registry and its gradients: parse(latex(e)) has e's value."""
    case = tensor_case
    case.check()
    for e in [case.y, *sg.grad(sg.sum(case.y), list(case.xs))]:
        err = reparse_error(e, 0)
        assert err is None, err


@ci_examples(30)
@given(tensor_expressions(), seeds())
def test_random_tensor_expressions_and_gradients_parse_back(e, seed):
    U = variable("U", *e.shape)
    L = sg.sum(U * e)
    for f in [e, *sg.grad(L, variables(e))]:
        err = reparse_error(f, seed % 1000, declare=L)
        assert err is None, err


def test_readme_example_parses_back():
    A, Z = sg.matrix("A", n, k), sg.tensor("Z", B, n, k)
    f = sg.name("f", Z + A)
    for e in [Z + A, sg.grad(f, A), sg.jacobian(sg.tanh(Z + A), A)]:
        assert reparse_error(e, 1) is None


# ---- hand-written index notation ---------------------------------------------------------------
def test_entries_sums_and_brackets():
    X, W, Z, A = VALUES["X"], VALUES["W"], VALUES["Z"], VALUES["A"]
    np.testing.assert_allclose(_value(r"\left[ \sum_{l} X_{ijl} W_{lk} \right]_{ijk}", LAYER),
                               X @ W)
    np.testing.assert_allclose(_value(r"\left[ X_{i j k} \right]_{kij}", LAYER),
                               X.transpose(2, 0, 1))
    np.testing.assert_allclose(_value(r"\sum_{i j k} \tanh(Z_{ijk})^{2}", SEED),
                               np.sum(np.tanh(Z) ** 2))
    np.testing.assert_allclose(_value(r"\left[ Z_{ijl} + A_{jl} \right]_{ijl}", SEED), Z + A)
    np.testing.assert_allclose(_value(r"\left[ \exp((A^\top)_{lj}) \right]_{1jl}", SEED),
                               np.exp(A)[None])
    # the Kronecker delta takes its size from the indices it shares
    M = np.arange(9.0).reshape(3, 3)
    e = sg.parse(r"\left[ \delta_{jl} M_{jl} \right]_{jl}", "M: n×n")
    np.testing.assert_allclose(sg.evaluate(e, {"M": M}, {}), np.diag(np.diag(M)))
    # an index only the bracket lists takes its size from the result's shape
    got = sg.parse(r"\left[ A_{jl} \right]_{ijl}", SEED, shape=(B, n, k))
    assert got.shape == (B, n, k)
    np.testing.assert_allclose(sg.evaluate(got, {"A": A}, {"B": 3}),
                               np.broadcast_to(A, (3,) + A.shape))


def test_reshape_index_formulas():
    """Merged and split axes (heads: (T, H*e) <-> (T, H, e)) read back, strides checked."""
    H, e_ = sg.dims("H e")
    Q = sg.tensor("Q", T, H, e_)
    for y in [sg.reshape(Q, (T, H * e_)), sg.reshape(sg.reshape(Q, (T, H * e_)), (T, H, e_)) * 2,
              sg.reshape(sg.matrix("P", T, H * e_), (T, H, e_))]:
        assert reparse_error(y, 3) is None
    with pytest.raises(sg.ShapeError, match="the index formula says 4"):
        sg.parse(r"\left[ Q_{i, \lfloor (j - 1) / 4 \rfloor + 1, (j - 1) \bmod 4 + 1} "
                 r"\right]_{ij}", "Q: T×H×e")


def test_per_slice_sums():
    X, G, W = VALUES["X"], VALUES["G"], VALUES["W"]
    want = np.einsum("btd,bth->dh", X, G)
    np.testing.assert_allclose(_value(r"\sum_{i} X_{i}^{\top} G_{i}", LAYER), want)
    np.testing.assert_allclose(_value(r"\sum_{i=1}^{B} X_{i}^\top G_{i}", LAYER), want)
    np.testing.assert_allclose(_value(r"\sum_{i} \left(X_{i} W\right)^\top G_{i}", LAYER),
                               np.einsum("bth,btk->hk", X @ W, G))
    # a batched quadratic form x_i^T A x_i of the rows x_i of Y
    Y, Q = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3))
    e = sg.parse(r"\left[ y_{i}^\top Q y_{i} \right]_{i}", "y: N×m, Q: m×m")
    np.testing.assert_allclose(sg.evaluate(e, {"y": Y, "Q": Q}, {}),
                               np.einsum("im,mk,ik->i", Y, Q, Y))


def test_tensor_declarations_in_latex_and_shape_strings():
    e = sg.parse(r"\sum_{i j l} Z_{ijl} Y_{ijl}, \quad Z \in \mathbb{R}^{B \times n \times k}",
                 "Y: Bxnxk")
    assert e.shape == ()
    assert {v.params[0]: v.shape for v in variables(e)} == {"Z": (B, n, k), "Y": (B, n, k)}


# ---- check() with tensor claims ----------------------------------------------------------------
@pytest.mark.parametrize("claim", [
    r"\left[ \sum_{l} \left(\frac{\partial L}{\partial f}\right)_{lij} \right]_{ij}",
    r"\sum_{i} \left(\frac{\partial L}{\partial f}\right)_{i}",
    r"\frac{\partial L}{\partial A} = \sum_{i=1}^{B} "
    r"\left(\frac{\partial L}{\partial f}\right)_{i}",
])
def test_check_accepts_the_sum_over_the_broadcast_axis(claim):
    v = sg.check(claim, "f = Z + A", "A", SEED)
    assert v.ok, str(v)


def test_check_refutes_the_scaled_upstream_for_a_3d_broadcast():
    v = sg.check(r"\frac{\partial l}{\partial A} = B \frac{\partial l}{\partial z}", "z = Z + A",
                 None, SEED)
    assert not v.ok and v.summary.startswith("wrong")
    assert any("constant along the broadcast axis 0 (length B)" in dg for dg in v.diagnoses)
    assert v.counterexample is not None and v.counterexample.sizes["B"] > 0


@pytest.mark.parametrize("claim,ok", [
    (r"\sum_{i} X_{i}^{\top} \left(\frac{\partial L}{\partial f}\right)_{i}", True),
    (r"\left[ \sum_{i t} X_{itj} \left(\frac{\partial L}{\partial f}\right)_{itk} \right]_{jk}",
     True),
    (r"\sum_{i} \left(\frac{\partial L}{\partial f}\right)_{i}^{\top} X_{i}", False),
    (r"\sum_{i} X_{i}^{\top} \left(\frac{\partial L}{\partial f}\right)_{i} W^\top W", False),
])
def test_check_per_slice_claims_of_a_batched_layer(claim, ok):
    v = sg.check(claim, "f = X W + b", "W", LAYER)
    assert v.ok is ok, str(v)
    if not ok:
        assert v.counterexample is not None


# ---- malformed index notation -------------------------------------------------------------------
@pytest.mark.parametrize("latex,err,message", [
    (r"X_{ijk}", sg.LatexSyntaxError, r"X_\{ijk\} is an entry .*\\left\[ X_\{ijk\} \\right\]"),
    (r"\left[ X_{ijl} \right]_{ij}", sg.LatexSyntaxError,
     r"the index l is free in the entry but not in the subscript \{ij\}"),
    (r"\sum_{i} X_{ijk}", sg.LatexSyntaxError, r"the index j is not bound"),
    (r"\left[ X_{ijk} W_{jl} \right]_{ijkl}", sg.ShapeError,
     r"the index j is used with two sizes, T and d"),
    (r"\sum_{m} X_{ijk}", sg.LatexSyntaxError, r"the index m of \\sum_\{m\} does not occur"),
    (r"\left[ \delta_{ij} \right]_{ij}", sg.AmbiguousInputError,
     r"size of the indices of \\delta_\{ij\} is not determined"),
    (r"\left[ 1 \right]_{ij}", sg.AmbiguousInputError,
     r"the size of the index i is not determined"),
    (r"\left[ X_{i, j+1, k} \right]_{ijk}", sg.LatexSyntaxError, r"index formulas"),
    (r"\left[ X_{1jk} \right]_{jk}", sg.ShapeError, r"the index 1 names axis 1 of X"),
    (r"\left[ X_{ijkl} \right]_{ijkl}", sg.LatexSyntaxError, r"X_\{ijkl\}|unknown"),
    (r"\sum_{i} \operatorname{softmax}(X_{i})", sg.LatexSyntaxError,
     r"only functions of numbers"),
    (r"\left[ X_{i} \right]_{i}", sg.LatexSyntaxError, r"not a number"),
    (r"\left[ X_{ijk} \right]_{iik}", sg.LatexSyntaxError, r"an index repeats"),
])
def test_malformed_index_notation_is_refused(latex, err, message):
    with pytest.raises((err, sg.UnknownSymbolError) if "unknown" in message else err,
                       match=message) as info:
        sg.parse(latex, LAYER)
    assert "(column " in str(info.value)


def test_sum_without_index_is_refused():
    with pytest.raises(sg.LatexSyntaxError, match=r"a sum needs its index"):
        sg.parse(r"\sum X", LAYER)


def test_named_intermediates_parse_back_as_definitions():
    """The attention example's gradient (heads as an axis), its named Q, K, S written as
    definitions after it: the document parses to the gradient's value."""
    with contextlib.redirect_stdout(io.StringIO()):
        example = runpy.run_path(str(EXAMPLES / "tensors.py"))
    e = example["grad_Wq"]
    names = [m for m in topo(e) if m.op is core.NAME]
    assert names
    doc = sg.latex(e) + "".join(rf", \quad {m.params[0]} = {sg.latex(m.args[0])}"
                                for m in names)
    got = sg.parse(doc, variables([e] + [m.args[0] for m in names]), shape=e.shape)
    rng = np.random.default_rng(2)
    sizes = random_sizes([e, got], rng)
    env = random_env([e, got], sizes, rng)
    np.testing.assert_allclose(sg.evaluate(got, env, sizes), sg.evaluate(e, env, sizes),
                               rtol=1e-9, atol=1e-12)
