"""Paper-style LaTeX and Unicode: tokens, names, and parentheses from one precedence table."""

import pytest

import symgrad as sg

n, m, k = sg.dims("n m k")
A, B, C = sg.matrix("A", n, n), sg.matrix("B", n, n), sg.matrix("C", n, n)
x, y = sg.vector("x", n), sg.vector("y", n)
s = sg.scalar("s")


@pytest.mark.parametrize("expr,tex,text", [
    (A @ B + C, "A B + C", "A B + C"),
    ((A + B) @ C, "(A + B) C", "(A + B) C"),
    (A @ (B - C), "A (B - C)", "A (B - C)"),
    (A - (B - C), "A - (B - C)", "A - (B - C)"),
    ((A + B).T, r"(A + B)^{\top}", "(A + B)ᵀ"),
    (A * B @ C, r"(A \odot B) C", "(A ⊙ B) C"),  # * and @ share Python's precedence
    (A * (B @ C), r"A \odot (B C)", "A ⊙ (B C)"),
    ((A @ B) * C, r"(A B) \odot C", "(A B) ⊙ C"),
    (A * B * C, r"A \odot B \odot C", "A ⊙ B ⊙ C"),
    (A / B, r"A \oslash B", "A ⊘ B"),
    (A / s, r"\frac{A}{s}", "A/s"),
    (2 * A, "2 A", "2 A"),
    (-A, "-A", "-A"),
    (s * (A + B), "s (A + B)", "s (A + B)"),
    (x @ A @ y, r"x^{\top} A y", "xᵀ A y"),
    (x @ y, r"x^{\top} y", "xᵀ y"),
    (sg.outer(x, y), r"x y^{\top}", "x yᵀ"),
    (sg.inv(A), "A^{-1}", "A⁻¹"),
    (sg.inv(A).T, r"A^{-\top}", "A⁻ᵀ"),
    (sg.trace(A @ B), r"\operatorname{tr}(A B)", "tr(A B)"),
    (sg.det(A), r"\det(A)", "det(A)"),
    (sg.logdet(A), r"\log\det(A)", "log det(A)"),
    (sg.diag(x), r"\operatorname{diag}(x)", "diag(x)"),
    (sg.norm(x), r"\left\| x \right\|", "‖x‖"),
    (sg.norm(A) ** 2, r"\left\| A \right\|_{F}^{2}", "‖A‖_F²"),
    (A ** 2, r"A^{\circ 2}", "A∘²"),
    (sg.tanh(A @ x), r"\tanh(A x)", "tanh(A x)"),
    (sg.sigmoid(x), r"\sigma(x)", "σ(x)"),
    (sg.exp(x / s), r"\exp\left(\frac{x}{s}\right)", "exp(x/s)"),
    (sg.abs(x), r"\left|x\right|", "|x|"),
    (sg.sqrt(s), r"\sqrt{s}", "√(s)"),
    (sg.sum(A, axis=1), r"A \mathbf{1}_{n}", "A 1ₙ"),
    (sg.eye(n), "I_{n}", "Iₙ"),
    (sg.ones(n, k), r"\mathbf{1}_{n} \mathbf{1}_{k}^{\top}", "1ₙ 1ₖᵀ"),
])
def test_print(expr, tex, text):
    assert sg.latex(expr) == tex
    assert str(expr) == text


@pytest.mark.parametrize("name,tex,text", [
    ("W1", "W_{1}", "W₁"), ("W_12", "W_{12}", "W₁₂"), ("theta", r"\theta", "θ"),
    ("b_out", r"b_{\text{out}}", "bₒᵤₜ"),
    ("w_big", r"w_{\text{big}}", "w_big"), ("x_i", "x_{i}", "xᵢ"), ("Sigma", r"\Sigma", "Σ"),
])
def test_names(name, tex, text):
    v = sg.matrix(name, 2, 2)
    assert sg.latex(v) == tex
    assert str(v) == text


def test_style_options_and_jupyter():
    f = sg.name("f", A @ B)
    g = sg.grad(f, B)
    assert sg.latex(g) == r"A^{\top} \frac{\partial L}{\partial f}"
    assert sg.latex(g, transpose="^{T}", upstream="bar") == r"A^{T} \bar{f}"
    assert sg.latex(g, loss=r"\ell") == r"A^{\top} \frac{\partial \ell}{\partial f}"
    assert sg.latex(sg.sum(A, axis=1), size_subscripts=False) == r"A \mathbf{1}"
    assert sg.latex(A, bold=True) == r"\mathbf{A}"
    assert g._repr_latex_() == r"$\displaystyle A^{\top} \frac{\partial L}{\partial f}$"
    assert repr(A @ B) == "<matmul (n, n): A B>"


def test_broadcast_operands_print_explicitly():
    b = sg.vector("b", n)
    M = sg.matrix("M", k, n)
    col = sg.matrix("c", k, 1)
    assert sg.latex(M + b) == r"M + \mathbf{1}_{k} b^{\top}"
    assert sg.latex(M * col) == r"M \odot (c \mathbf{1}_{n}^{\top})"
    assert sg.latex(M + s) == "M + s"  # scalars broadcast silently
