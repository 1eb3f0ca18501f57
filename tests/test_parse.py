"""sg.parse: the notations people write, the conventions, declarations and errors."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.latex_in.build import LatexAssumptionWarning
from symgrad.latex_in.tokens import MAX_CHARS
from symgrad.numeric import variables
from symgrad.ops.core import number, upstream_of

n, m, k, N = sg.dims("n m k N")
W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
A, B = sg.matrix("A", n, n), sg.matrix("B", n, n)
b, x, y, s = sg.matrix("b", n, 1), sg.vector("x", n), sg.vector("y", n), sg.scalar("s")
G, c = sg.matrix("G", n, k), sg.vector("c", m)
SHAPES = {"W": ("n", "m"), "X": ("m", "k"), "A": ("n", "n"), "B": ("n", "n"), "b": ("n", 1),
          "x": ("n",), "y": ("n",), "s": (), "G": ("n", "k"), "c": ("m",)}
W1, theta, bout = sg.matrix("W_1", n, n), sg.vector("theta", n), sg.matrix("b_out", n, 1)
f = sg.name("f", W @ X + b)
U = upstream_of(f)


@pytest.mark.parametrize("tex,want", [
    # products keep their order; transposes stay where they are
    (r"W X + b", W @ X + b),
    (r"W^T W", W.T @ W), (r"W^{T} W", W.T @ W), (r"W^\top W", W.T @ W),
    (r"W^{\top} W", W.T @ W), (r"W^{\mathsf{T}} W", W.T @ W), (r"W' W", W.T @ W),
    (r"W^\intercal W", W.T @ W), (r"x^T A x", x @ A @ x), (r"x^\top y", x @ y),
    (r"x y^\top", sg.outer(x, y)), (r"A \cdot B", A @ B), (r"2 \cdot A", 2 * A),
    (r"A^{-1}", sg.inv(A)), (r"A^{-T}", sg.inv(A).T), (r"A^{-\top}", sg.inv(A).T),
    (r"A \odot B", A * B), (r"A \circ B", A * B), (r"A \oslash B", A / B),
    (r"W X \oplus b", W @ X + b), (r"W X \ominus b", W @ X - b),
    (r"\operatorname{tr}(A B)", sg.trace(A @ B)), (r"\mathrm{tr}(A)", sg.trace(A)),
    (r"\operatorname{Tr}(A)", sg.trace(A)), (r"\det(A)", sg.det(A)), (r"\det A", sg.det(A)),
    (r"\log\det(A)", sg.logdet(A)), (r"\log \det A", sg.logdet(A)), (r"\log|A|", sg.logdet(A)),
    (r"\log(|A|)", sg.log(sg.abs(A))), (r"\operatorname{diag}(x)", sg.diag(x)),
    (r"\exp(x)", sg.exp(x)), (r"\log x", sg.log(x)), (r"\ln(x)", sg.log(x)),
    (r"\tanh(W X)", sg.tanh(W @ X)), (r"\sigma(x)", sg.sigmoid(x)),
    (r"\operatorname{softmax}(x)", sg.softmax(x)),
    (r"\operatorname{softmax}_{\mathrm{row}}(G)", sg.softmax(G, axis=1)),
    (r"\operatorname{relu}(x)", sg.relu(x)), (r"\operatorname{ReLU}(x)", sg.relu(x)),
    (r"e^{x}", sg.exp(x)), (r"\sqrt{s}", sg.sqrt(s)), (r"|x|", sg.abs(x)),
    (r"\left| x \right|", sg.abs(x)),
    (r"\mathbf{1}_n", sg.ones(n)), (r"\mathbb{1}_{n}", sg.ones(n)), (r"I_n", sg.eye(n)),
    (r"I - A", sg.eye(n) - A), (r"A I", A @ sg.eye(n)), (r"G \mathbf{1}", G @ sg.ones(k)),
    (r"\|x\|", sg.norm(x)), (r"\|x\|_2^2", sg.norm(x) ** 2), (r"\|A\|_F^2", sg.norm(A) ** 2),
    (r"\lVert x \rVert", sg.norm(x)), (r"\left\| x \right\|^{2}", sg.norm(x) ** 2),
    (r"\frac{A}{s}", A / s),
    (r"\frac{1}{2} x^\top A x", number(sympy.Rational(1, 2)) * (x @ A @ x)),
    (r"\frac{\partial L}{\partial f}", U), (r"\frac{\partial \ell}{\partial f}", U),
    (r"\frac{dL}{df}", U), (r"\left( A + B \right) x", (A + B) @ x), (r"\big( A + B \big) x",
                                                                       (A + B) @ x),
    (r"\bigl[A + B\bigr] x", (A + B) @ x), (r"W_1 x", W1 @ x), (r"W_{1} x", W1 @ x),
    (r"\mathbf{W}_1 x", W1 @ x), (r"\boldsymbol{\theta}^\top x", theta @ x),
    (r"\bm{x}^\top \bm{y}", x @ y), (r"b_{\text{out}}", bout), (r"b_\text{out}", bout),
    (r"\theta", theta), (r"-A", -A), (r"A - -B", A - (-B)), (r"A^{\circ 2}", A ** 2),
    (r"A^2", A @ A), (r"s^2 A", s ** 2 * A), (r"2 A x", 2 * (A @ x)), (r"A x 2", A @ x * 2),
    (r"\tanh x^2", None),  # x^2 of a vector is ambiguous: tested below
])
def test_notations(tex, want):
    shapes = dict(SHAPES, W_1=("n", "n"), theta=("n",), b_out=("n", 1), f=("n", "k"))
    if want is None:
        with pytest.raises(sg.AmbiguousInputError, match=r"\\circ 2"):
            sg.parse(tex, shapes)
        return
    got = sg.parse(tex, shapes)
    assert got is want, f"{tex}: got {got!r}, want {want!r}"


def test_name_in_equation_and_upstream_of_a_named_expression():
    e = sg.parse("f = W X + b", SHAPES)
    assert e is f
    assert sg.parse(r"\frac{\partial L}{\partial f} \mathbf{1}_{k}", [e, U]) is U @ sg.ones(k)


@pytest.mark.parametrize("shapes", [
    {"W": ("n", "m"), "b": ("n", 1), "X": ("m", "k")},
    {"W": "n×m", "b": "n×1", "X": "m x k"},
    {"W": "(n, m)", "b": r"\mathbb{R}^{n \times 1}", "X": "m,k"},
    "W: n×m, b: n×1, X: m×k",
    r"W \in \mathbb{R}^{n \times m}; b: (n, 1); X = m,k",
    [W, b, X],
])
def test_declaration_forms(shapes):
    assert sg.parse("W X + b", shapes) is W @ X + b


def test_declarations_in_the_latex():
    tex = (r"W X + b, \quad W \in \mathbb{R}^{n \times m}, X \in \mathbb{R}^{m \times k}, "
           r"b \in \mathbb{R}^{n \times 1}")
    assert sg.parse(tex) is W @ X + b
    assert sg.parse(r"s x, \text{where } s \in \mathbb{R}, x \in \mathbb{R}^n") is s * x
    both = sg.parse(r"x^\top M, \quad M = \mathbf{1}_n", {"x": ("n",)})
    assert both is x @ sg.ones(n)


def test_constants_declared_by_name():
    assert sg.parse(r"G^\top M", {"G": "n×k", "M": "ones(n)"}) is G.T @ sg.ones(n)
    assert sg.parse(r"G^\top M", {"G": "n×k", "M": sg.ones(n)}) is G.T @ sg.ones(n)


def test_multi_letter_names_and_sizes_as_numbers():
    loss = sg.scalar("loss")
    assert sg.parse("loss", [loss]) is loss
    assert sg.parse("l o s s", {"l": (), "o": (), "s": ()}).op.name == "mul"
    # a size used as a number: n is a size of the declared shapes
    assert sg.parse(r"\frac{1}{n} x", SHAPES) is number(1 / n) * x


# ---- the conventions that make parse(latex(e)) give back e ------------------------------------
def test_ones_vector_takes_the_form_the_product_needs():
    r = sg.matrix("r", 1, m)
    assert sg.parse(r"G \mathbf{1}_k", SHAPES) is G @ sg.ones(k)  # 1-D: (n,)
    assert sg.parse(r"\mathbf{1}_n^\top x", SHAPES) is sg.ones(n) @ x  # a scalar
    assert sg.parse(r"b \mathbf{1}_k^\top", SHAPES) is b @ sg.ones(k, 1).T  # (n, k)
    assert sg.parse(r"\mathbf{1}_n^\top G", SHAPES) is sg.ones(n, 1).T @ G  # the row (1, k)
    assert sg.parse(r"\mathbf{1}_{k} c^\top", SHAPES) is sg.ones(k, 1) @ sg.reshape(c, (1, m))
    assert sg.parse(r"\mathbf{1}_{n} r", {"r": (1, "m")}) is sg.ones(n, 1) @ r
    assert sg.parse(r"\mathbf{1}_{n} \mathbf{1}_{k}^\top") is sg.ones(n, k)
    assert sg.parse(r"G \mathbf{1}_k", SHAPES, shape=("n", 1)) is G @ sg.ones(k, 1)


def test_a_transposed_vector_alone_is_a_row():
    assert sg.parse(r"x^\top", SHAPES) is sg.reshape(x, (1, n))
    assert sg.parse(r"x^\top A", SHAPES) is x @ A
    assert sg.parse(r"(x^\top A)^\top", SHAPES) is x @ A  # 1-D: the column again


def test_column_and_vector_in_a_sum_are_the_same_column():
    col = sg.matrix("c", n, 1)
    got = sg.parse(r"c + G \mathbf{1}_k", {"c": ("n", 1), "G": ("n", "k")})
    assert got.shape == (n, 1)  # NumPy would broadcast (n, 1) + (n,) to (n, n)
    assert got is col + sg.reshape(G @ sg.ones(k), (n, 1))


@pytest.mark.parametrize("e", [
    W @ X + b, sg.explicit(W @ X + b), W.T @ W, x @ A @ x, (A + A.T) @ x, sg.inv(A).T,
    sg.trace(A @ B), sg.logdet(A), sg.det(A) * sg.inv(A).T, sg.norm(x) ** 2, sg.norm(A) ** 2,
    A ** 2, sg.tanh(A @ x), sg.sigmoid(x), sg.exp(x / s), sg.abs(x), sg.sqrt(s), 2 * A, -A,
    s * (A + B), A - (B - A), (A + B).T, A * B @ A, sg.outer(x, y), sg.diag(x), sg.eye(n),
    sg.ones(n, k), sg.softmax(G, axis=1), sg.softmax(G, axis=0), sg.logsumexp(G),
    sg.grad(x @ sg.inv(A) @ y, A), sg.grad(sg.name("f", W @ X + b), b),
    sg.grad(sg.name("f", W @ X + b), W), sg.grad(x @ A @ x, x), sg.grad(sg.logdet(A), A),
    sg.grad(sg.trace(A @ B @ A.T), B), sg.grad(sg.sum(G * (W @ X + b)), b),
    sg.grad(sg.norm(A @ x - y) ** 2, x), G + b, sg.relu(W @ X) * G,
])
def test_printed_expressions_parse_back_to_themselves(e):
    # The variables of e, its upstream gradients included, declare the shapes.
    got = sg.parse(sg.latex(e), variables(e), shape=e.shape)
    assert got is e or sg.simplify(got) is sg.simplify(e), \
        f"{sg.latex(e)}: got {got!r}, want {e!r}"


# ---- errors -------------------------------------------------------------------------------------
def test_syntax_error_has_column_and_caret():
    with pytest.raises(sg.LatexSyntaxError) as info:
        sg.parse(r"W X + }", SHAPES)
    assert info.value.column == 7
    assert "W X + }\n        ^" in str(info.value)
    with pytest.raises(sg.LatexSyntaxError, match=r"'\)' is missing"):
        sg.parse(r"(W X", SHAPES)
    with pytest.raises(sg.LatexSyntaxError, match=r"unknown command \\foo"):
        sg.parse(r"\foo(x)", SHAPES)
    with pytest.raises(sg.LatexSyntaxError, match=r"\\sum is not supported: a sum needs its "
                       r"index"):
        sg.parse(r"\sum x", SHAPES)  # \sum_i x_i is index notation (test_parse_indices.py)


def test_unknown_symbols_are_listed_with_how_to_declare():
    with pytest.raises(sg.UnknownSymbolError) as info:
        sg.parse(r"P Q x + R", SHAPES)
    assert info.value.names == ("P", "Q", "R")
    msg = str(info.value)
    assert "unknown symbols P, Q, R" in msg and "shapes=" in msg and "--shape P=n,m" in msg
    assert r"P \in \mathbb{R}^{n \times m}" in msg
    with pytest.raises(sg.UnknownSymbolError, match=r"needs the shape of z"):
        sg.parse(r"\frac{\partial L}{\partial z}", SHAPES)


def test_shape_mismatch_names_the_operands_and_points_at_them():
    with pytest.raises(sg.ShapeError) as info:
        sg.parse(r"W W", SHAPES)
    assert "W (shape (n, m)) and W (shape (n, m))" in str(info.value)
    assert "^" in str(info.value)


@pytest.mark.parametrize("tex,match", [
    (r"x y", r"two column vectors side by side; write x\^\\top y"),
    (r"A * B", r"'\*' between"),
    (r"\mathbf{1}", r"cannot tell the size of \\mathbf\{1\}"),
    (r"I", r"cannot tell the size of I"),
    (r"x^2", r"\\circ 2"),
    (r"\operatorname{softmax}_{\mathrm{diag}}(G)", "each row"),
])
def test_ambiguous_input_asks_for_the_reading_meant(tex, match):
    with pytest.raises(sg.AmbiguousInputError, match=match):
        sg.parse(tex, SHAPES)


def test_assumptions_are_said():
    with pytest.warns(LatexAssumptionWarning, match="over all entries"):
        e = sg.parse(r"\operatorname{softmax}(G)", SHAPES)
    assert e is sg.softmax(G, axis=None)


def test_input_size_and_nesting_are_bounded():
    with pytest.raises(sg.LatexSyntaxError, match=f"at most {MAX_CHARS}"):
        sg.parse("x + " * (MAX_CHARS // 4 + 1) + "x", SHAPES)
    with pytest.raises(sg.LatexSyntaxError, match="nested"):
        sg.parse("(" * 200 + "x" + ")" * 200, SHAPES)
    with pytest.raises(sg.LatexSyntaxError, match="nested too deeply"):
        sg.parse("- " * 500 + "x", SHAPES)
    big = " + ".join(["x"] * 400)  # long but flat input is fine
    assert sg.parse(big, SHAPES).shape == (n,)


@pytest.mark.parametrize("bad", [None, 3, b"x"])
def test_non_strings_are_refused(bad):
    with pytest.raises(sg.SymgradError):
        sg.parse(bad, SHAPES)


@pytest.mark.parametrize("shapes,err", [
    ({"W": "n×"}, sg.SizeError), ({"W": "0×2"}, sg.SizeError), ({3: "n"}, sg.SymgradError),
    ("nonsense", sg.SymgradError), (42, sg.SymgradError), ({"W": object()}, sg.SizeError),
])
def test_bad_declarations(shapes, err):
    with pytest.raises(err):
        sg.parse("W", shapes)


def test_parse_works_without_latex2sympy2(monkeypatch):
    monkeypatch.setitem(sys.modules, "latex2sympy2", None)  # import now fails
    assert sg.parse(r"\tanh(W X + b)", SHAPES) is sg.tanh(W @ X + b)
    with pytest.raises(sg.UnsupportedError, match="latex2sympy2"):
        sg.elementwise("mysq", r"x^2", x)


def test_user_elementwise_functions_come_from_the_registry():
    sq = sg.elementwise("cube", sg.ops.elementwise.X ** 3, x)
    assert sg.parse(r"\operatorname{cube}(x)", SHAPES) is sq


# ---- one reading or an error naming both (issue 10) ---------------------------------------------
Xnm = sg.matrix("X", n, m)


@pytest.mark.parametrize("tex,want", [
    # the numeral 1 transposed or with a size is the ones vector, as \mathbf{1}
    (r"1^\top x", sg.ones(n) @ x), (r"1^T x", sg.ones(n) @ x), (r"1_n^\top x", sg.ones(n) @ x),
    (r"1^{\top} A", sg.ones(n, 1).T @ A), (r"x^\top 1_n", x @ sg.ones(n)),
    # a function without parentheses binds the whole product after it
    (r"\operatorname{tr} X^\top X", sg.trace(Xnm.T @ Xnm)),
    (r"\operatorname{tr} A B + s", sg.trace(A @ B) + s),
    (r"\log\det A B", sg.logdet(A @ B)), (r"\det A^{-1} B", sg.det(sg.inv(A) @ B)),
    (r"\log 2 x - y", sg.log(2 * x) - y), (r"\operatorname{tr} A (B + A)", sg.trace(A @ (B + A))),
    (r"\log x \odot y", sg.log(x) * y), (r"\exp \log x", sg.exp(sg.log(x))),
    # ... and its parentheses, when written, are the whole argument
    (r"\operatorname{tr}(A) B", sg.trace(A) * B), (r"\log(x) \odot y", sg.log(x) * y),
])
def test_one_reading(tex, want):
    shapes = dict(SHAPES, X=("n", "m"))
    got = sg.parse(tex, shapes)
    assert got is want, f"{tex}: got {got!r}, want {want!r}"


def test_one_transposed_is_the_sum():
    assert sg.evaluate(sg.parse(r"1^\top x", SHAPES), {"x": [1.0, 2.0, 3.0]}) == 6.0


@pytest.mark.parametrize("tex,shapes,readings", [
    (r"\sigma(x)", "sigma: scalar, x: n", [r"sigmoid", r"σ \(shape \(\)\) times"]),
    (r"\sigma(W x)", "sigma: scalar, W: n×n, x: n", ["sigmoid", "times"]),
    (r"\log x \log y", "x: n, y: n", [r"its argument is x", "the whole product"]),
    (r"\operatorname{tr} A \det B", "A: n×n, B: n×n", ["its argument is A", "whole product"]),
    (r"x^\top 1", "x: n", ["the number 1", "the ones vector"]),
    (r"A 1 x", "A: n×n, x: n", ["the number 1", "the ones vector"]),
    (r"s^T", "s: scalar, T: scalar", ["transpose", "power T"]),
    (r"x, x \in \mathbb{R}^{n \cdot m}", None, [r"matrix of shape n×m", "one axis of length"]),
    (r"A x", "A: n*n, x: n", [r"matrix of shape n×n", "one axis of length n·n"]),
    (r"A x", r"A: n \cdot n, x: n", ["matrix", "one axis"]),
])
def test_two_readings_raise_naming_both(tex, shapes, readings):
    with pytest.raises(sg.AmbiguousInputError) as info:
        sg.parse(tex, shapes)
    for r in readings:
        assert re.search(r, str(info.value)), (r, str(info.value))


@pytest.mark.parametrize("tex,shapes,want", [
    # the declared shapes settle \sigma: undeclared (or unfit for a product) it is the sigmoid
    (r"\sigma(x)", "x: n", sg.sigmoid(x)),
    (r"\sigma(x)", "sigma: m×k, x: n", sg.sigmoid(x)),
    (r"\operatorname{sigmoid}(x)", "sigma: scalar, x: n", sg.sigmoid(x)),
    (r"\sigma \, x", "sigma: scalar, x: n", sg.scalar("sigma") * x),
    (r"\sigma \cdot (A x)", "sigma: scalar, x: n, A: n×n", sg.scalar("sigma") * (A @ x)),
    (r"s^{T}", "s: scalar", s), (r"s^\top", "s: scalar, T: scalar", s),
])
def test_declared_shapes_settle_the_reading(tex, shapes, want):
    assert sg.parse(tex, shapes) is want


@pytest.mark.parametrize("spec", ["nxn", "n x n", "n×n", r"n\times n", r"n \times n", "(n, n)",
                                  r"\mathbb{R}^{n \times n}"])
def test_square_shape_strings(spec):
    assert sg.parse("A x", f"A: {spec}, x: n") is A @ x


@pytest.mark.parametrize("spec,shape", [("3x4", (3, 4)), ("2nxk", (2 * n, k)), ("nxm", (n, m)),
                                        ("nx", (sympy.Symbol("nx", positive=True, integer=True),)),
                                        ("n m", (n * m,)), ("2n", (2 * n,))])
def test_shape_strings_without_spaces(spec, shape):
    assert sg.parse("Z", {"Z": spec}).shape == shape


# ---- every name the printer prints parses back to its variable (names.py) ------------------------
NAMES = ["W", "W1", "W_{1}", "Xr", "Xr2", "alpha", "alpha_1", "lambda", "ell", "Sigma", "sigma",
         "b_1_2", "b_out", "x_alpha", "x_ij", "exp", "tr", "varepsilon", "theta_k", "Wout"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("make", [
    lambda v, x: v @ x, lambda v, x: v.T @ x, lambda v, x: 2 * sg.tanh(v @ x),
])
def test_printed_names_parse_back(name, make):
    v, xx = sg.matrix(name, n, n), sg.vector("x", n)
    e = make(v, xx)
    assert sg.parse(sg.latex(e), [v, xx]) is e, sg.latex(e)


@pytest.mark.parametrize("name", ["sigma", "lambda", "alpha", "Xr", "exp", "W1"])
def test_printed_scalar_names_parse_back(name):
    c, xx, M = sg.scalar(name), sg.vector("x", n), sg.matrix("M", n, n)
    for e in [c * xx, c * (M @ xx), c ** 2 * xx, c * sg.tanh(xx), sg.sigmoid(c * xx),
              c * sg.sigmoid(xx), sg.sigmoid(M @ xx) + c * (M @ xx + 1)]:
        assert sg.parse(sg.latex(e), [c, xx, M]) is e, sg.latex(e)


def test_sigmoid_next_to_a_declared_sigma():
    c, xx = sg.scalar("sigma"), sg.vector("x", n)
    with pytest.raises(sg.AmbiguousInputError, match="two readings"):
        sg.parse(r"\sigma(\sigma \, x)", [c, xx])  # the sigmoid, or sigma times (sigma x)?
    assert sg.parse(r"\operatorname{sigmoid}(\sigma \, x)", [c, xx]) is sg.sigmoid(c * xx)
    assert sg.parse(r"\sigma \cdot \operatorname{sigmoid}(x)", [c, xx]) is c * sg.sigmoid(xx)


@pytest.mark.parametrize("tex,shapes,want", [
    ("x1", "x_1: n", "x_1"), ("x_{1}", "x1: n", "x_1"), ("x_1", "x_{1}: n", "x_1"),
    (r"\mathit{Xr}", "Xr: n×n", "Xr"), (r"\mathrm{Xr}", "Xr: n×n", "Xr"),
    (r"\mathit{exp}", "exp: n×n", "exp"), (r"b_{1,2}", "b_1_2: n", "b_1,2"),
    (r"W1^\top", "W_1: n×n", None), (r"\boldsymbol{\theta}_{k}", "theta_k: n", "theta_k"),
])
def test_name_spellings_in_latex(tex, shapes, want):
    got = sg.parse(tex, shapes)
    if want is None:
        assert got is sg.matrix("W_1", n, n).T
    else:
        assert got.op.name == "var" and got.params[0] == want


@pytest.mark.parametrize("tex,shapes,match", [
    (r"W1 x", "W: n×n, W_1: n×n, x: n", r"the variable W_\{1\} or W times 1"),
    (r"W1 x", "W: n×n, x: n", "the number 1 or the ones vector"),
    (r"\mathrm{exp}(x)", "exp: scalar, x: n", r"the function exp or the declared variable exp"),
])
def test_name_or_product_two_readings(tex, shapes, match):
    with pytest.raises(sg.AmbiguousInputError, match=match):
        sg.parse(tex, shapes)


def test_a_one_by_one_matrix_beside_a_matrix_scales_it():
    cc, C = sg.matrix("c", n, 1), sg.matrix("C", m, n)
    got = sg.parse(r"\frac{\mathbf{1}_{n}^{\top} c}{n} C^{\top}", [cc, C])
    assert got.shape == (n, m)  # (1, 1) times (n, m) cannot be a matrix product
    env = {"c": np.arange(1.0, 4.0).reshape(3, 1), "C": np.arange(6.0).reshape(2, 3)}
    np.testing.assert_allclose(sg.evaluate(got, env), 2.0 * env["C"].T)


@pytest.mark.parametrize("tex,want", [
    (r"\mathbf{0}_{n \times k}", sg.zeros(n, k)), (r"\mathbf{0}_{n×k}", sg.zeros(n, k)),
    (r"\mathbf{1}_{n \times k}", sg.ones(n, k)), (r"\mathbf{0}_{n}", sg.zeros(n)),
])
def test_sized_matrices_of_zeros_and_ones(tex, want):
    assert sg.parse(tex, SHAPES) is want


def test_a_labelled_reduction_of_a_vector_runs_over_its_entries():
    """softmax_{col}(x) / softmax_{row}(x) of a 1-D x: x is that column or row, and the
    reduction is over its entries (never silently over a unit axis, which gives ones)."""
    v = np.array([1.0, 2.0, 4.0])
    want = np.exp(v) / np.exp(v).sum()
    for label, shape in (("col", (3, 1)), ("row", (1, 3))):
        e = sg.parse(rf"\operatorname{{softmax}}_{{\mathrm{{{label}}}}}(x)", {"x": (3,)})
        assert e.shape == shape
        np.testing.assert_allclose(sg.evaluate(e, {"x": v}).ravel(), want)


def test_a_definition_in_the_text_shadows_a_declared_variable():
    """A display may name a part `s` while the caller's shapes also declare an unused `s`: the
    text's own definition is what `s` means there (it was read as the variable: a silent
    misparse found by benchmarks/faithful_figures.py)."""
    r = sg.parse(r"\begin{aligned} s &= x^\top x \\ &s y \end{aligned}", "x: n, y: n, s: 1")
    vals = {"x": np.arange(3.0), "y": np.ones(3), "s": np.array(100.0)}
    assert np.allclose(sg.evaluate(r, vals), 5.0 * np.ones(3))
