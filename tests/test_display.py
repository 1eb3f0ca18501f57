"""Displays: named shared parts in printed results (sg.latex, str, show, parse_display, the
textbook-form benchmark), Verdict and GradcheckReport in Markdown with short reprs, generated
code as a highlighted block that is still a str."""

import json

import numpy as np
import pytest
from conftest import load_benchmark
from faithful import HAS_PDFLATEX, compile_errors

import symgrad as sg
from symgrad.cli import main
from symgrad.display import inline_math, parse_display

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
    assert str(d).splitlines() == ["    M = 1 - tanh(f)∘²", "∂L/∂W = M Xᵀ", "∂L/∂b = M 1ₖ",
                                   "∂L/∂X = Wᵀ M"]
    assert d.latex().splitlines()[1] == r"M &= 1 - \tanh(f)^{\circ 2} \\"
    env = {"W": np.ones((2, 3)) / 3, "X": np.arange(12.0).reshape(3, 4) / 10, "b": [[1.0], [-1.0]]}
    shown = [e for label, e in d.rows if label in (W, b, X)]
    for got, want in zip(sg.evaluate(shown, env), sg.evaluate(gs, env)):
        np.testing.assert_allclose(got, want)
    M = sg.matrix("M", n, k)  # a variable named M: the shared part takes another name
    assert str(sg.show([M @ X.T + gs[0], gs[1]])).startswith("M₁ = ")


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


# ---- named shared parts in every printed result (issue 11) -----------------------------------
N, d, h, c = sg.dims("N d h c")
Xb, Yb = sg.matrix("X", N, d), sg.matrix("Y", N, c)
W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)
MLP = sg.sum((sg.tanh(Xb @ W1 + b1) @ W2 + b2 - Yb) ** 2)
PARAMS = [W1, b1, W2, b2]
MLP_ENV = {"X": np.linspace(-1, 1, 15).reshape(5, 3), "Y": np.cos(np.arange(10.0)).reshape(5, 2),
           "W1": np.sin(np.arange(12.0)).reshape(3, 4), "b1": [0.1, -0.2, 0.3, 0.0],
           "W2": np.cos(np.arange(8.0)).reshape(4, 2), "b2": [0.5, -0.5]}


def test_latex_of_gradients_names_activation_and_residual_once():
    gs = sg.grad(MLP, PARAMS)
    tex = sg.latex(dict(zip(PARAMS, gs)))
    lines = tex.splitlines()
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}"
    assert lines[1] == r"H &= \tanh(X W_{1} + \mathbf{1}_{N} b_{1}^{\top}) \\"
    assert lines[2] == r"R &= H W_{2} + \mathbf{1}_{N} b_{2}^{\top} - Y \\"
    assert r"\frac{\partial L}{\partial W_{2}} &= 2 H^{\top} R \\" in lines
    assert tex.count(r"\tanh") == 1
    # the display reads back, definitions included, to the gradients' values
    rows = parse_display(tex, PARAMS + [Xb, Yb])
    assert [lb for lb, _ in rows] == [rf"\frac{{\partial L}}{{\partial {sg.latex(p)}}}"
                                      for p in PARAMS]
    for (_, e), g in zip(rows, gs):
        np.testing.assert_allclose(sg.evaluate(e, MLP_ENV), sg.evaluate(g, MLP_ENV))


def test_a_list_prints_as_one_display_and_inline_keeps_lines():
    gs = sg.grad(MLP, PARAMS)
    tex = sg.latex(gs)
    assert tex.startswith(r"\begin{aligned}") and tex.count(r"\tanh") == 1
    assert tex.splitlines()[-2].startswith("&2 ")  # results without labels
    lines = sg.latex(gs, inline=True)
    assert isinstance(lines, list) and len(lines) == 4 and all("\n" not in t for t in lines)
    assert lines[0].count(r"\tanh") == 2  # written out where it occurs


def test_one_expression_prints_one_line_unless_a_part_repeats():
    x, A = sg.vector("x", n), sg.matrix("A", n, n)
    assert sg.latex(sg.grad(x @ A @ x, x)) == r"(A + A^{\top}) x"
    g = sg.grad(MLP, W1)
    tex = sg.latex(g)
    assert tex.splitlines()[1] == r"H &= \tanh(X W_{1} + \mathbf{1}_{N} b_{1}^{\top}) \\"
    assert "\n" not in sg.latex(g, inline=True) and sg.latex(g, inline=True).count(r"\tanh") == 2
    # sg.parse reads an aligned display: the result in terms of its definitions
    got = sg.parse(tex, PARAMS + [Xb, Yb])
    np.testing.assert_allclose(sg.evaluate(got, MLP_ENV), sg.evaluate(g, MLP_ENV))


def test_str_and_jupyter_show_the_display():
    g = sg.grad(MLP, W1)
    text = str(g).splitlines()
    assert text[0] == "H = tanh(X W₁ + 1_N b₁ᵀ)" and "tanh" not in text[1]
    assert sg.unicode(g, inline=True).count("tanh") == 2
    assert g._repr_latex_() == f"$$\n{sg.latex(g)}\n$$"
    x = sg.vector("x", n)
    assert (2 * x)._repr_latex_() == r"$\displaystyle 2 x$"


def test_error_messages_quote_an_expression_on_one_line():
    g = sg.grad(MLP, W1)
    with pytest.raises(sg.ShapeError) as err:
        g @ sg.matrix("Q", 7, 7)
    assert "\n" not in str(err.value) and "tanh" in str(err.value)


def test_letters_follow_the_field_and_never_clash():
    Q, K = sg.matrix("Q", n, m), sg.matrix("K", k, m)
    P = sg.softmax(Q @ K.T, axis=1)
    tex = sg.latex([P @ K, P.T @ Q])
    assert tex.splitlines()[1].startswith(r"P &= \operatorname{softmax}")
    S = sg.matrix("S", n, n)
    Ainv = sg.inv(S @ S.T + sg.eye(n))
    tex = sg.latex([Ainv @ W, W.T @ Ainv])
    assert tex.splitlines()[1] == r"S_{1} &= (S S^{\top} + I_{n})^{-1} \\"  # S is the user's
    # variables named H and Z: the generated names step around them
    H, Z = sg.matrix("H", N, h), sg.matrix("Z", N, h)
    A = sg.tanh(Xb @ W1 + b1)
    tex = sg.latex([H + A, Z * A])
    assert tex.splitlines()[1].startswith(r"H_{1} &= \tanh(")
    rows = parse_display(tex, [Xb, W1, b1, H, Z])
    env = dict(MLP_ENV, H=np.ones((5, 4)), Z=np.full((5, 4), 2.0))
    for (_, e), want in zip(rows, [H + A, Z * A]):
        np.testing.assert_allclose(sg.evaluate(e, env), sg.evaluate(want, env))


def test_the_users_names_print_as_themselves():
    Hn = sg.name("A", sg.tanh(Xb @ W1 + b1))
    L2 = sg.sum((Hn @ W2 + b2 - Yb) ** 2)
    tex = sg.latex(dict(zip(PARAMS, sg.grad(L2, PARAMS))))
    assert r"\tanh" not in tex and "A^{\\top} R" in tex


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is not installed")
def test_displays_compile():
    gs = sg.grad(MLP, PARAMS)
    texs = [sg.latex(dict(zip(PARAMS, gs))), sg.latex(gs), sg.latex(gs[0])]
    assert compile_errors([t.replace("\n", " ") for t in texs]) == []


def test_textbook_form_benchmark_runs_and_checks_its_forms():
    bench = load_benchmark("textbook_form")
    out = bench.main(["cb_57", "seed_rows", "mlp2_tanh", "attention"])
    assert out["failed"] == [] and len(out["rows"]) == 4
    for r in out["rows"]:
        assert 0 < r["symgrad"] and r["ratio"] <= bench.TARGET_WORST, r["name"]
    # a textbook form that is not the value fails the run
    wrong = next(m for m in bench.corpus() if m.name == "least_squares")
    wrong.rows = [(wrong.wrt[0], r"\frac{2}{N} X^{\top} (X w + y)")]
    with pytest.raises(AssertionError, match="not the gradient"):
        bench.measure(wrong)
    assert len(bench.corpus()) >= 30


MLP_CLI = ["derive", r"\left\| \tanh(X W_1 + \mathbf{1}_N b_1^\top) W_2 - Y \right\|_F^2",
           "--shapes", "X: N×d, W_1: d×h, b_1: h, W_2: h×c, Y: N×c",
           "--wrt", "W_1", "--wrt", "b_1", "--wrt", "W_2"]


def test_command_line_prints_the_same_names(capsys):
    assert main([*MLP_CLI, "--format", "text"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[:3] == ["∂L/∂W₁ = 2 Xᵀ M", "∂L/∂b₁ = 2 Mᵀ 1_N", "∂L/∂W₂ = 2 Hᵀ R"]
    assert text[3] == "where H = tanh(X W₁ + 1_N b₁ᵀ)"
    assert main([*MLP_CLI, "--format", "latex"]) == 0
    tex = capsys.readouterr().out
    assert tex == sg.latex(dict(zip([W1, b1, W2], sg.grad(
        sg.norm(sg.tanh(Xb @ W1 + b1) @ W2 - Yb) ** 2, [W1, b1, W2])))) + "\n"
    assert main([*MLP_CLI, "--format", "markdown"]) == 0
    assert capsys.readouterr().out == f"$$\n{tex}$$\n"
    assert main([*MLP_CLI, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [dfn["name"] for dfn in data["definitions"]] == ["H", "R", "M"]
    assert data["gradients"][2]["latex"] == r"2 H^{\top} R"


def test_a_long_row_is_split_and_every_name_shortens_the_display():
    Xs, Ws = sg.matrix("X", N, d), [sg.matrix(f"W{i}", d, d) for i in range(1, 6)]
    Hs = Xs
    for Wi in Ws:
        Hs = sg.sigmoid(Hs @ Wi)
    g = sg.grad(sg.sum(sg.log(1 + Hs ** 2)), Ws[0])
    tex = sg.latex(g)
    rows = tex.splitlines()[1:-1]
    assert len(sg.latex(g, inline=True)) > 700 and max(map(len, rows)) < 200
    assert [r.split(" &= ")[0] for r in rows[:5]] == [f"H_{{{i}}}" for i in range(1, 6)]
    assert rows[5].startswith("M &= ")  # the long backward part, named for its length
    assert len(tex) < len(sg.latex(g, inline=True))
    env = {"X": np.linspace(-1, 1, 12).reshape(4, 3),
           **{f"W{i}": np.sin(np.arange(9.0) + i).reshape(3, 3) for i in range(1, 6)}}
    np.testing.assert_allclose(sg.evaluate(sg.parse(tex, [Xs, *Ws]), env),
                               sg.evaluate(g, env))
