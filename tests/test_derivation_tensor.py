"""sg.derive of batched expressions (arrays of three or more axes): slice by slice, every step
verified at random whole arrays, the result sg.grad's, the LaTeX compiling, refusals clear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import tensor_expressions
from test_derivation import need

import symgrad as sg
from symgrad.derivation import compile_latex
from symgrad.numeric import evaluate
from symgrad.testing import random_env, random_sizes

B, T, d, h, n, k = sg.dims("B T d h n k")
X, W, b = sg.tensor("X", B, T, d), sg.matrix("W", d, h), sg.vector("b", h)
A, Z = sg.matrix("A", n, k), sg.tensor("Z", B, n, k)
x, M = sg.matrix("x", B, n), sg.matrix("M", n, n)
H, e = sg.dims("H e")
Q, K, V = (sg.tensor(c, B, H, T, e) for c in "QKV")


def attention():
    """Multi-head attention, heads as an axis: slices along the batch and head axes."""
    S = sg.name("S", sg.einsum("bhtd,bhsd->bhts", Q, K))
    A_ = sg.name("A", sg.softmax(S, axis=-1))
    return sg.name("O", sg.einsum("bhts,bhsd->bhtd", A_, V))


def cases():
    return {
        "seed": (sg.name("f", Z + A), [A]),  # the seed's (2,3) + (4,2,3)
        "linear": (sg.name("f", X @ W + b), [W, b]),  # a batched layer, shared bias
        "linear-x": (sg.name("f", X @ W + b), [X, W]),  # w.r.t. the batched input too
        "tanh-loss": (sg.sum(sg.tanh(X @ W + b) ** 2), [W, b, X]),  # backprop, slice by slice
        "quadratic": (sg.sum(sg.einsum("bi,ij,bj->b", x, M, x)), [M, x]),  # x_iᵀ M x_i
        "einsum-mean": (sg.mean(sg.exp(sg.einsum("btd,dh->bth", X, W))), [W]),
        "attention": (attention(), [Q, K, V]),
        "softmax-xent": (-sg.sum(sg.tensor("Y", B, T, h) * sg.log(sg.softmax(X @ W, axis=-1))),
                         [W]),
        "row-sums": (sg.name("f", sg.sum(X, axis=1)), [X]),  # slices are vectors
        "seed-ints": (sg.name("f", sg.tensor("Z", 4, 2, 3) + sg.matrix("A", 2, 3)),
                      [sg.matrix("A", 2, 3)]),
    }


@pytest.fixture(scope="module")
def derivations():
    return {name: sg.derive(y, wrt) for name, (y, wrt) in cases().items()}


@pytest.mark.parametrize("name", list(cases()))
def test_steps_verified(name, derivations):
    rep = derivations[name].verify()
    assert rep.ok, str(rep)
    # whole-array checks and the per-slice derivation's own checks both ran
    assert any(label.startswith("one slice: ") for label in rep.errors)
    assert "the slices make up the expression" in rep.errors
    assert any("equals the result" in label and not label.startswith("one slice")
               for label in rep.errors)


@pytest.mark.parametrize("name", list(cases()))
def test_result_is_grads_value(name, derivations):
    dv = derivations[name]
    y, wrt = cases()[name]
    rng = np.random.default_rng(1)
    grads = sg.grad(y, wrt)
    exprs = [y, *wrt, *dv.result.values(), *grads]  # the upstream dL/df is a variable of them
    sizes = random_sizes(exprs, rng)
    env = random_env(exprs, sizes, rng)
    for v, g in zip(wrt, grads):
        assert np.allclose(evaluate(dv.result[v], env, sizes), evaluate(g, env, sizes))


def test_a_wrong_slice_is_caught(derivations):
    """verify() is not a rubber stamp: a gradient summed wrongly fails."""
    dv = derivations["linear"]
    step = dv.steps[-1]
    eq = step.equations[0]  # dL/dW = sum_i X_i^T G_i
    bad = sg.derivation.Equation(eq.lhs, eq.rhs * 2, eq.note, batch="sum")
    dv2 = sg.derive(*cases()["linear"])
    dv2.steps[-1] = sg.derivation.Step(step.kind, (bad,) + step.equations[1:], step.prose)
    rep = dv2.verify()
    assert not rep.ok
    assert any("equals the result" in f or "line before" in f for f in rep.failed)


def test_linear_layer_lines(derivations):
    lines = derivations["linear"].lines()
    text = "\n".join(lines)
    assert r"f_{i} = X_{i} W \oplus b" in text  # as given, the broadcast marked
    assert r"= X_{i} W + \mathbf{1}_{T} b^{\top}" in text  # ... and made explicit
    assert r"df_{i} = X_{i}\, dW + \mathbf{1}_{T}\, db^{\top}" in text
    assert (r"dL = \sum_{i=1}^{B} \operatorname{tr}\big((\tfrac{\partial L}{\partial f_{i}})"
            r"^{\top} df_{i}\big)") in text
    assert r"\frac{\partial L}{\partial W} = \sum_{i=1}^{B} X_{i}^{\top} \frac{\partial L}" \
           r"{\partial f_{i}}" in text
    assert r"\frac{\partial L}{\partial b} = \sum_{i=1}^{B} \left(\frac{\partial L}{\partial " \
           r"f_{i}}\right)^{\top} \mathbf{1}_{T}" in text


def test_seed_and_quadratic_lines(derivations):
    seed = "\n".join(derivations["seed"].lines())
    assert r"\frac{\partial L}{\partial A} = \sum_{i=1}^{B} \frac{\partial L}{\partial f_{i}}" \
        in seed
    quad = "\n".join(derivations["quadratic"].lines())
    assert r"L_{i} = x_{i}^{\top} M x_{i}" in quad
    assert r"\frac{\partial L}{\partial M} = \sum_{i=1}^{B} x_{i} x_{i}^{\top}" in quad
    assert r"= \sum_{i=1}^{B} L_{i}" in quad


def test_backprop_slices_name_their_layers(derivations):
    text = str(derivations["tanh-loss"])
    assert "Z₁,ᵢ = Xᵢ W + 1_T bᵀ" in text
    assert "∂L/∂W = Σ_i Xᵢᵀ Z̄₁,ᵢ" in text
    assert "∂L/∂Xᵢ = Z̄₁,ᵢ Wᵀ" in text


def test_every_batched_derivation_compiles(derivations, tmp_path):
    need("pdflatex")
    body = []
    for dv in derivations.values():
        body.append(dv.latex())
    pre = derivations["linear"].options.packages()
    tex = "\n".join([r"\documentclass[11pt]{article}", r"\usepackage[a4paper,margin=2cm]{geometry}",
                     *pre, r"\allowdisplaybreaks", r"\begin{document}", *body,
                     r"\end{document}", ""])
    compile_latex(tex, tmp_path, "tensor")
    pdf = compile_latex(derivations["linear"].latex(document=True), tmp_path, "linear")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_markdown_and_text(derivations):
    md = derivations["linear"].markdown()
    assert md.count("$$") >= 4 and r"\sum_{i=1}^{B}" in md
    assert "Σ_i" in str(derivations["linear"])


# ---- refusals -----------------------------------------------------------------------------------
@pytest.mark.parametrize("y, wrt, words", [
    (sg.sum(sg.softmax(X, axis=0)), X, "softmax.*mixes the slices"),
    (sg.sum(sg.sum(X, axis=0) @ sg.matrix("V", d, h)), X, "sum.*mixes the slices"),
    (sg.name("f", sg.tensor("Y", B, T, d) * sg.tensor("u", 1, T, 1)), None, "unit axis"),
    (sg.sum(sg.swapaxes(X, 0, 1)), X, "moves a batch axis"),
    (sg.logsumexp(sg.tanh(X @ W)), W, "sums \\(or averages\\) every entry"),
])
def test_refusals_name_the_op(y, wrt, words):
    with pytest.raises(sg.UnsupportedError, match=words):
        sg.derive(y, wrt)


def test_hessian_of_a_batched_loss_is_refused():
    with pytest.raises(sg.UnsupportedError, match="order=2"):
        sg.derive(sg.sum(sg.tanh(X @ W) ** 2), W, order=2)


def test_matrix_derivations_are_unchanged():
    """No tensor in sight: the matrix derivation, as before (no slices)."""
    Xm = sg.matrix("X", T, d)
    dv = sg.derive(sg.name("f", Xm @ W + b), [W, b])
    assert dv._batch is None and dv.verify().ok


def test_attention_lines(derivations):
    text = "\n".join(derivations["attention"].lines())
    assert r"S_{i,j} = Q_{i,j} K_{i,j}^{\top}" in text
    assert r"O_{i,j} = A_{i,j} V_{i,j}" in text
    assert r"\frac{\partial L}{\partial V_{i,j}} = A_{i,j}^{\top} \frac{\partial L}" \
           r"{\partial O_{i,j}}" in text


def test_sums_over_two_batch_axes():
    Wq = sg.matrix("W", e, h)
    dv = sg.derive(sg.sum(sg.tanh(Q @ Wq)), Wq)
    assert r"\sum_{i=1}^{B} \sum_{j=1}^{H}" in "\n".join(dv.lines())
    assert dv.verify().ok


# ---- random batched expressions: verified steps, or a clear refusal -----------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(tensor_expressions(), st.booleans())
def test_random_batched_expressions(expr, scalar):
    """Never a wrong step: a random expression of up to four axes derives with every step
    verified, or is refused with an UnsupportedError."""
    y = sg.sum(expr) if scalar else sg.name("F", expr)
    try:
        dv = sg.derive(y)
    except sg.UnsupportedError:
        return
    rep = dv.verify()
    assert rep.ok, f"{y}: {rep}"


def test_cli_derives_tensor_shapes(capsys):
    from symgrad.cli import main
    code = main(["derive", "f = X W + b", "--shapes", "X: B×T×d, W: d×h, b: h", "--wrt", "W",
                 "--wrt", "b", "--steps", "--format", "text"])
    out = capsys.readouterr().out
    assert code == 0
    assert "fᵢ = Xᵢ W ⊕ b" in out and "∂L/∂W = Σ_i Xᵢᵀ ∂L/∂fᵢ" in out


def test_absent_variable_and_taken_index_letter():
    U = sg.tensor("U", B, T, d)
    dv = sg.derive(sg.name("f", X @ W + b), [W, U])
    assert "∂L/∂U = [0]_(i,j,k)" in str(dv) and dv.verify().ok
    i = sg.tensor("i", B, T, d)  # a variable named i: the slices are indexed by j
    dv = sg.derive(sg.sum(sg.tanh(i @ W)), W)
    assert r"\frac{\partial L}{\partial W} = \sum_{j=1}^{B} i_{j}^{\top}" in "\n".join(dv.lines())
    assert dv.verify().ok
