"""Jupyter displays: show() for several results, Verdict and GradcheckReport in Markdown with
short reprs, generated code as a highlighted block that is still a str."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.display import inline_math

n, m, k = sg.dims("n m k")
W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
b = sg.matrix("b", n, 1)
f = sg.name("f", W @ X + b)
L = sg.sum(sg.tanh(f))


def test_show_labels_gradients_by_their_variables():
    gW, gb = sg.grad(L, [W, b])
    d = sg.show({W: gW, b: gb}, name_shared=False)
    tex = d._repr_latex_()
    assert tex.startswith("$$\n\\begin{aligned}") and tex.endswith("\\end{aligned}\n$$")
    assert f"\\frac{{\\partial L}}{{\\partial W}} &= {sg.latex(gW)}" in tex
    assert f"\\frac{{\\partial L}}{{\\partial b}} &= {sg.latex(gb)}" in tex
    assert str(d).splitlines() == [f"∂L/∂W = {gW}", f"∂L/∂b = {gb}"]


def test_show_names_shared_parts_once():
    gs = sg.grad(L, [W, b, X])
    d = sg.show(dict(zip([W, b, X], gs)))
    assert str(d).splitlines() == ["   Z₁ = 1 - tanh(f)∘²", "∂L/∂W = Z₁ Xᵀ", "∂L/∂b = Z₁·1ₖ",
                                   "∂L/∂X = Wᵀ Z₁"]
    assert d.latex().splitlines()[1] == r"Z_{1} &= 1 - \tanh(f)^{\circ 2} \\"
    env = {"W": np.ones((2, 3)) / 3, "X": np.arange(12.0).reshape(3, 4) / 10, "b": [[1.0], [-1.0]]}
    shown = [e for label, e in d.rows if label in (W, b, X)]
    for got, want in zip(sg.evaluate(shown, env), sg.evaluate(gs, env)):
        np.testing.assert_allclose(got, want)
    Z1 = sg.matrix("Z1", n, k)  # a variable named Z1: the shared part takes the next name
    assert str(sg.show([Z1 @ X.T + gs[0], gs[1]])).startswith("Z₂ = ")


def test_show_lists_labels_and_options():
    gs = sg.grad(L, [W, b])
    assert sg.show(gs, name_shared=False).latex().count("\n&") == 2
    assert r"\nabla_W \ell &=" in sg.show({r"\nabla_W \ell": gs[0]}).latex()
    assert r"\bar{f} \mathbf{1}_{k}" in sg.show(sg.grad(f, b), upstream="bar").latex()
    assert r"\frac{\partial \ell}{\partial W}" in sg.show({W: gs[0]}, loss=r"\ell").latex()


def test_show_refuses_bad_input():
    with pytest.raises(sg.SymgradError, match="Style"):
        sg.show(W, colour="red")
    with pytest.raises(sg.SymgradError, match="label"):
        sg.show({3: W})


def wrong_verdict():
    return sg.check(r"k \frac{\partial L}{\partial f}", "f = W X + b", "b",
                    "W: n×m, X: m×k, b: n×1")


def test_verdict_repr_is_short_and_markdown_renders_math():
    v = wrong_verdict()
    assert len(repr(v)) <= 120 and repr(v).startswith("<Verdict wrong:")
    md = v._repr_markdown_()
    assert md.startswith("**✗ wrong**: true only when the upstream gradient "
                         r"$\frac{\partial L}{\partial f}$ is constant")
    assert r"the gradient is $\frac{\partial L}{\partial f} \mathbf{1}_{k}$" in md
    assert r"The claim, as read: $k \frac{\partial L}{\partial f}$" in md
    assert "```text\ncounterexample" in md
    right = sg.check(r"X^{-\top}", r"\log\det X", "X", "X: n×n")
    assert right._repr_markdown_().startswith(r"**✓ right**: the claim equals the gradient "
                                              r"$X^{-\top}$")


def test_gradcheck_report_displays():
    x, A = sg.vector("x", n), sg.matrix("A", n, n)
    r = sg.gradcheck(x @ A @ x, [x, A])
    assert repr(r).startswith("<GradcheckReport passed: d/dx rel ") and len(repr(r)) < 80
    md = r._repr_markdown_().splitlines()
    assert md[0].startswith("**✓ gradcheck passed** (n=")
    assert md[2] == "| gradient | max abs error | max rel error | |"
    assert [row.split(" | ")[0] for row in md[4:]] == ["| d/d`x`", "| d/d`A`"]


def test_verify_report_displays():
    r = sg.derive(L, [W, b]).verify()
    assert repr(r).startswith("<VerifyReport steps agree: ") and len(repr(r)) < 100
    md = r._repr_markdown_().splitlines()
    assert md[0].startswith(f"**✓ steps agree** ({len(r.errors)} checks; ")
    assert len(md) == 4 + len(r.errors) and all(row.endswith("| ✓ |") for row in md[4:])


def test_generated_code_is_a_str_shown_as_python():
    src = sg.codegen([L, *sg.grad(L, [W, b])], [W, X, b])
    assert isinstance(src, str)
    assert src._repr_markdown_() == f"```python\n{src.rstrip()}\n```"
    fn = sg.lambdify(L, [W, X, b])
    assert fn._repr_markdown_() == f"```python\n{fn.source.rstrip()}\n```"


@pytest.mark.parametrize("text, want", [
    (r"the gradient is \frac{\partial L}{\partial f} \mathbf{1}_{k}",
     r"the gradient is $\frac{\partial L}{\partial f} \mathbf{1}_{k}$"),
    (r"true only when W_{1} is symmetric", r"true only when $W_{1}$ is symmetric"),
    (r"off by a transpose of X^{-\top}; see n×k", r"off by a transpose of $X^{-\top}$; see n×k"),
    ("no math here", "no math here"),
    (r"already delimited: $\frac{a}{b}$", r"already delimited: $\frac{a}{b}$"),
])
def test_inline_math(text, want):
    assert inline_math(text) == want
