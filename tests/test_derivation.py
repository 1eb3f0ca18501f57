"""sg.derive: step-by-step derivations whose steps agree in numbers and whose LaTeX compiles."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import symgrad as sg
from symgrad.derivation import Derivation, compile_latex, pdf_pages
from symgrad.testing import random_env, random_sizes

# ---- the examples ------------------------------------------------------------------------------
n, m, k, N, d, c, h1, h2, h3 = sg.dims("n m k N d c h1 h2 h3")


def founding():
    W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
    b = sg.matrix("b", n, 1)  # a column broadcast across the k columns
    return sg.name("f", W @ X + b), None


def founding_rows():
    X, W = sg.matrix("X", N, m), sg.matrix("W", m, d)
    cvec = sg.vector("c", d)  # broadcast down the N rows
    return sg.name("g", X @ W + cvec), None


def founding_loss():
    W, X, Y = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("Y", n, k)
    b = sg.matrix("b", n, 1)
    return sg.sum((W @ X + b - Y) ** 2), [W, b]


_x, _a, _b = sg.vector("x", n), sg.vector("a", n), sg.vector("b", n)
_A, _B, _X = sg.matrix("A", n, n), sg.matrix("B", n, n), sg.matrix("X", n, n)
COOKBOOK = {  # Matrix Cookbook (2012) gradients
    "cookbook-69-aTx": (_a @ _x, _x),
    "cookbook-81-xTAx": (_x @ _A @ _x, _x),
    "cookbook-100-trAX": (sg.trace(_A @ _X), _X),
    "cookbook-2.5.2-trXTAX": (sg.trace(_X.T @ _A @ _X), _X),
    "cookbook-101-trAXB": (sg.trace(_A @ _X @ _B), _X),
    "cookbook-57-logdet": (sg.logdet(_X), _X),
    "cookbook-49-det": (sg.det(_X), _X),
    "cookbook-61-aTinvXb": (_a @ sg.inv(_X) @ _b, _X),
    "cookbook-84-norm2": (sg.norm(_A @ _x - _b) ** 2, _x),
    "cookbook-frobenius": (sg.norm(_X) ** 2, _X),
    "cookbook-trinvXA": (sg.trace(sg.inv(_X) @ _A), _X),
}


def softmax_ce():
    X, Y, W, b = sg.matrix("X", N, d), sg.matrix("Y", N, c), sg.matrix("W", d, c), sg.vector("b", c)
    return -sg.sum(Y * sg.log(sg.softmax(X @ W + b, axis=1))) / N, [W, b]


def softmax_ce_logsumexp():
    X, Y, W, b = sg.matrix("X", N, d), sg.matrix("Y", N, c), sg.matrix("W", d, c), sg.vector("b", c)
    Z = X @ W + b
    return sg.mean(sg.logsumexp(Z, axis=1) - sg.sum(Y * Z, axis=1)), [W, b]


def mlp(layers: int, named: bool = False):
    """An MLP with tanh hidden layers, biases broadcast down the rows, mean squared error."""
    widths = [d, h1, h2, h3][:layers] + [c]
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
    H, params = X, []
    for i in range(1, layers + 1):
        W, b = sg.matrix(f"W{i}", widths[i - 1], widths[i]), sg.vector(f"b{i}", widths[i])
        params += [W, b]
        Z = H @ W + b
        if named:
            Z = sg.name(f"Z{i}", Z)
        H = sg.tanh(Z) if i < layers else Z
        if named and i < layers:
            H = sg.name(f"H{i}", H)
    return sg.mean((H - Y) ** 2), params


def symmetric_quadratic():
    S, x = sg.matrix("S", n, n, symmetric=True), sg.vector("x", n)
    return x @ S @ x, [S]


def shared_layer():  # tanh(X W + b) used twice: named once
    X, W, b, V = sg.matrix("X", N, d), sg.matrix("W", d, h1), sg.vector("b", h1), \
        sg.matrix("V", h1, c)
    T = sg.tanh(X @ W + b)
    return sg.sum(T * T) + sg.sum(sg.exp(T @ V)), [W, b, V]


def nonscalar_layer():
    X, W, b, V = sg.matrix("X", N, d), sg.matrix("W", d, h1), sg.vector("b", h1), \
        sg.matrix("V", h1, c)
    return sg.name("f", sg.tanh(X @ W + b) @ V), None


EXAMPLES = {
    "founding": founding,
    "founding-rows": founding_rows,
    "founding-loss": founding_loss,
    **{name: (lambda y=y, v=v: (y, v)) for name, (y, v) in COOKBOOK.items()},
    "softmax-ce": softmax_ce,
    "softmax-ce-logsumexp": softmax_ce_logsumexp,
    "mlp-2": lambda: mlp(2),
    "mlp-2-named": lambda: mlp(2, named=True),
    "mlp-4": lambda: mlp(4),
    "symmetric": symmetric_quadratic,
    "shared-layer": shared_layer,
    "nonscalar-layer": nonscalar_layer,
}
OPTION_VARIANTS = {
    "transpose-T": dict(transpose="^{T}"),
    "transpose-sf": dict(transpose=r"^{\mathsf{T}}"),
    "ones-M": dict(ones="M"),
    "ones-bb": dict(ones=r"\mathbb{1}"),
    "bold": dict(bold=True),
    "ell": dict(loss=r"\ell"),
    "upstream-bar": dict(upstream="bar"),
    "upstream-delta": dict(upstream="delta", cotangent="delta"),
    "no-subscripts": dict(size_subscripts=False),
    "frac-cotangents": dict(cotangent="frac", differential=r"\mathrm{d}"),
}


def hessian_examples() -> dict[str, tuple]:
    """Second-order derivations (derive(..., order=2)): (objective, variable)."""
    n_ = sg.dims("n")
    x, b = sg.vector("x", n_), sg.vector("b", n_)
    A, X = sg.matrix("A", n_, n_), sg.matrix("X", n_, n_)
    return {
        "hessian-quadratic": (x @ A @ x, x),
        "hessian-least-squares": (sg.norm(A @ x - b) ** 2, x),
        "hessian-sum-exp": (sg.sum(sg.exp(A @ x)), x),
        "hessian-trace-vec": (sg.trace(X.T @ A @ X), sg.vec(X)),
    }


@pytest.fixture(scope="module")
def derivations() -> dict[str, Derivation]:
    out = {}
    for name, build in EXAMPLES.items():
        y, wrt = build()
        out[name] = sg.derive(y, wrt)
    for name, (y, x) in hessian_examples().items():
        out[name] = sg.derive(y, x, order=2)
    return out


@pytest.fixture(scope="module")
def variants() -> dict[str, Derivation]:
    out = {}
    for vname, kw in OPTION_VARIANTS.items():
        for ename in ("founding", "founding-rows", "mlp-2"):
            y, wrt = EXAMPLES[ename]()
            out[f"{ename}/{vname}"] = sg.derive(y, wrt, **kw)
    return out


# ---- numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLES)
def test_steps_agree_numerically(name, derivations):
    dv = derivations[name]
    for seed in (0, 1):
        report = dv.verify(seed=seed)
        assert report.ok, f"{name}: {report}"
        assert len(report.errors) >= 3


@pytest.mark.parametrize("name", EXAMPLES)
def test_result_is_the_gradient(name, derivations):
    """The result is sg.grad's (with the layers named, in a deep derivation): the same numbers
    as sg.grad of the expression as given, which finite differences confirm."""
    dv = derivations[name]
    grads = sg.grad(dv.y, dv.wrt)
    if dv.mode == "differential":
        assert [dv.result[v] for v in dv.wrt] == grads
    exprs = [*grads, *dv.result.values()]
    rng = np.random.default_rng(7)
    sizes = random_sizes(exprs, rng)
    env = random_env(exprs, sizes, rng)
    for v, g in zip(dv.wrt, grads):
        assert np.allclose(sg.evaluate(dv.result[v], env, sizes), sg.evaluate(g, env, sizes))
    report = sg.gradcheck(dv.y, dv.wrt, seed=3)
    assert report.ok, str(report)


def test_wrong_steps_are_caught(derivations):
    """verify() fails when a step is changed: it is a test of the steps, not of itself."""
    dv = derivations["founding"]

    def tamper(kind, i, fn):
        steps = list(dv.steps)
        j = next(j for j, s in enumerate(steps) if s.kind == kind)
        eqs = list(steps[j].equations)
        eqs[i] = dataclasses.replace(eqs[i], rhs=fn(eqs[i].rhs), terms=())
        steps[j] = dataclasses.replace(steps[j], equations=tuple(eqs))
        bad = Derivation.__new__(Derivation)
        bad.__dict__.update(dv.__dict__, steps=steps)
        return bad.verify()

    doubled = tamper("gradients", 2, lambda e: 2 * e)  # ∂L/∂b twice over
    assert not doubled.ok and any("d/db" in f for f in doubled.failed)
    wrong_df = tamper("differential", 0, lambda e: e.args[0])  # a term dropped
    assert not wrong_df.ok and any("finite differences" in f for f in wrong_df.failed)
    wrong_read = tamper("chain", 2, lambda e: e.args[0])
    assert not wrong_read.ok
    deep = derivations["mlp-2"]
    steps = list(deep.steps)
    j = next(j for j, s in enumerate(steps) if s.kind == "backward")
    eqs = list(steps[j].equations)
    eqs[-1] = dataclasses.replace(eqs[-1], rhs=eqs[-1].rhs.args[0])  # Z̄₁ = H̄₁: tanh' lost
    steps[j] = dataclasses.replace(steps[j], equations=tuple(eqs))
    bad = Derivation.__new__(Derivation)
    bad.__dict__.update(deep.__dict__, steps=steps)
    assert not bad.verify().ok


# ---- golden: the founding example ------------------------------------------------------------
TR = r"\operatorname{tr}"
G = r"\tfrac{\partial L}{\partial f}"


def test_founding_lines(derivations):
    assert derivations["founding"].lines() == [
        r"f = W X \oplus b",
        r"= W X + b \mathbf{1}_{k}^{\top}",
        r"df = dW\, X + W\, dX + db\, \mathbf{1}_{k}^{\top}",
        rf"dL = {TR}\big(({G})^{{\top}} df\big)",
        rf"= {TR}\big(({G})^{{\top}} dW\, X\big) + {TR}\big(({G})^{{\top}} W\, dX\big)"
        rf" + {TR}\big(({G})^{{\top}} db\, \mathbf{{1}}_{{k}}^{{\top}}\big)",
        rf"= {TR}\big(({G} X^{{\top}})^{{\top}} dW\big) + {TR}\big((W^{{\top}} {G})^{{\top}} dX"
        rf"\big) + {TR}\big(({G} \mathbf{{1}}_{{k}})^{{\top}} db\big)",
        r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial f} X^{\top}",
        r"\frac{\partial L}{\partial X} = W^{\top} \frac{\partial L}{\partial f}",
        r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_{k}",
    ]
    tex = derivations["founding"].latex()
    assert tex.startswith("\\begin{align*}\n") and tex.endswith("\\end{align*}")
    assert r"\text{the row sums of } \frac{\partial L}{\partial f}" in tex
    assert tex.count("shape of the variable") == 1  # the layout, stated once


def test_founding_rows_lines(derivations):
    lines = derivations["founding-rows"].lines()
    assert lines[:3] == [
        r"g = X W \oplus c",
        r"= X W + \mathbf{1}_{N} c^{\top}",
        r"dg = dX\, W + X\, dW + \mathbf{1}_{N}\, dc^{\top}",
    ]
    assert lines[-1] == (r"\frac{\partial L}{\partial c} = "
                         r"\left(\frac{\partial L}{\partial g}\right)^{\top} \mathbf{1}_{N}")
    assert r"\text{the column sums of } \frac{\partial L}{\partial g}" in \
        derivations["founding-rows"].latex()


def test_text_has_no_latex(derivations, variants):
    for name, dv in {**derivations, **variants}.items():
        text = str(dv)
        assert "\\" not in text and "{" not in text, name
        assert len(text.splitlines()) >= len(dv.lines()), name


def test_founding_text(derivations):
    text = str(derivations["founding"])
    for line in ["f = W X ⊕ b", "= W X + b 1ₖᵀ", "df = dW X + W dX + db 1ₖᵀ",
                 "dL = tr((∂L/∂f)ᵀ df)", "∂L/∂b = ∂L/∂f 1ₖ", "the row sums of ∂L/∂f"]:
        assert line in text, line
    assert "\\" not in text  # no LaTeX in the terminal form


def test_result_and_api(derivations):
    dv = derivations["founding"]
    W, X, b = dv.wrt
    assert [v.params[0] for v in dv.wrt] == ["W", "X", "b"]  # default: every variable
    assert sg.latex(dv.result[b]) == r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"
    assert [s.kind for s in dv.steps] == ["given", "differential", "chain", "gradients"]
    assert dv._repr_latex_() == dv.markdown()
    md = dv.markdown()
    assert md.count("$$") == 4 and "\\intertext" not in md and "\\begin{aligned}" in md
    assert "Gradients have the shape of the variable" in md
    one = sg.derive(founding()[0], b)
    assert list(one.result) == [b] and one.lines()[2] == r"df = db\, \mathbf{1}_{k}^{\top}"


def test_scalar_differentials(derivations):
    assert derivations["cookbook-81-xTAx"].lines()[1:3] == [
        r"dL = dx^{\top} A x + x^{\top} A\, dx", r"= ((A + A^{\top}) x)^{\top} dx"]
    assert derivations["cookbook-57-logdet"].lines()[1] == rf"dL = {TR}(X^{{-1}}\, dX)"
    assert derivations["cookbook-61-aTinvXb"].lines()[1] == \
        r"dL = -a^{\top} X^{-1}\, dX\, X^{-1} b"  # Matrix Cookbook (59), by the product rule
    assert derivations["cookbook-100-trAX"].lines()[1:] == [
        rf"dL = {TR}(A\, dX)", r"\frac{\partial L}{\partial X} = A^{\top}"]


# ---- golden: deep derivations ------------------------------------------------------------------
def test_mlp_backprop_lines(derivations):
    lines = derivations["mlp-4"].lines()
    assert lines[:8] == [
        r"Z_{1} = X W_{1} + \mathbf{1}_{N} b_{1}^{\top}", r"H_{1} = \tanh(Z_{1})",
        r"Z_{2} = H_{1} W_{2} + \mathbf{1}_{N} b_{2}^{\top}", r"H_{2} = \tanh(Z_{2})",
        r"Z_{3} = H_{2} W_{3} + \mathbf{1}_{N} b_{3}^{\top}", r"H_{3} = \tanh(Z_{3})",
        r"Z_{4} = H_{3} W_{4} + \mathbf{1}_{N} b_{4}^{\top} - Y",
        r"L = \frac{1}{N c} \mathbf{1}_{N}^{\top} Z_{4}^{\circ 2} \mathbf{1}_{c}",
    ]
    for line in [r"\bar{Z}_{4} = \frac{2}{N c} Z_{4}", r"\bar{H}_{3} = \bar{Z}_{4} W_{4}^{\top}",
                 r"\bar{Z}_{1} = \bar{H}_{1} \odot (1 - H_{1}^{\circ 2})",
                 r"\frac{\partial L}{\partial W_{1}} = X^{\top} \bar{Z}_{1}",
                 r"\frac{\partial L}{\partial b_{4}} = \bar{Z}_{4}^{\top} \mathbf{1}_{N}"]:
        assert line in lines, line
    assert len(lines) == 8 + 7 + 8  # forward, one line per cotangent, one per gradient
    tex = derivations["mlp-4"].latex()
    assert tex.count(r"\tanh(") == 3  # each layer printed once, derivatives reuse H
    assert tex.count("shape of the variable") == 1


def test_user_names_are_kept(derivations):
    lines = derivations["mlp-2-named"].lines()
    assert lines[:4] == [r"Z_{1} = X W_{1} + \mathbf{1}_{N} b_{1}^{\top}", r"H_{1} = \tanh(Z_{1})",
                         r"Z_{2} = H_{1} W_{2} + \mathbf{1}_{N} b_{2}^{\top}",
                         r"L = \frac{1}{N c} \mathbf{1}_{N}^{\top} (Z_{2} - Y)^{\circ 2} "
                         r"\mathbf{1}_{c}"]


def test_shared_subexpression_named_once(derivations):
    tex = derivations["shared-layer"].latex()
    assert tex.count(r"\tanh") == 1 and tex.count(r"X W") == 1
    assert derivations["shared-layer"].mode == "backprop"
    assert r"\bar{H}_{1} &= \bar{Z}_{2} V^{\top} + 2 H_{1}" in tex


def test_modes(derivations):
    for name in ["founding", "founding-rows", *COOKBOOK]:
        assert derivations[name].mode == "differential", name
    for name in ["softmax-ce", "mlp-2", "mlp-2-named", "mlp-4", "nonscalar-layer"]:
        assert derivations[name].mode == "backprop", name


# ---- options ----------------------------------------------------------------------------------
def test_options(variants):
    tex = {name: dv.latex() for name, dv in variants.items()}
    assert r"b \mathbf{1}_{k}^{T}" in tex["founding/transpose-T"] and r"\top" not in \
        tex["founding/transpose-T"]
    assert r"X^{\mathsf{T}}" in tex["founding/transpose-sf"]
    assert r"b M_{k}^{\top}" in tex["founding/ones-M"] and r"\mathbf{1}" not in \
        tex["founding/ones-M"]
    assert r"\mathbb{1}_{N} c^{\top}" in tex["founding-rows/ones-bb"]
    assert r"\mathbf{W} \mathbf{X} \oplus \mathbf{b}" in tex["founding/bold"]
    assert r"\frac{\partial \ell}{\partial b}" in tex["founding/ell"]
    assert r"d\ell &=" in tex["founding/ell"]
    assert r"\bar{b} &= \bar{f} \mathbf{1}_{k}" in tex["founding/upstream-bar"]
    assert r"\delta_{c} &= \delta_{g}^{\top} \mathbf{1}_{N}" in tex["founding-rows/upstream-delta"]
    assert r"\delta_{Z_{1}} &= \delta_{H_{1}} \odot" in tex["mlp-2/upstream-delta"]
    assert r"b \mathbf{1}^{\top}" in tex["founding/no-subscripts"]
    assert r"\frac{\partial L}{\partial Z_{1}} &=" in tex["mlp-2/frac-cotangents"]
    assert r"\mathrm{d}f &= \mathrm{d}W\, X" in tex["founding/frac-cotangents"]
    text = str(variants["founding-rows/ones-bb"])
    assert "𝟙" in text and "\\" not in text
    assert "ℓ" in str(variants["founding/ell"])


def test_options_object():
    opts = sg.DerivationOptions.make(transpose="^{T}", cotangent="delta")
    assert opts.style.transpose == "^{T}" and opts.cotangent == "delta"
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.cotangent = "bar"  # type: ignore[misc]
    y, _ = founding()
    assert sg.derive(y, options=opts).latex() == sg.derive(y, transpose="^{T}",
                                                           cotangent="delta").latex()
    doc = sg.derive(y, ones=r"\mathbb{1}").latex(document=True)
    assert "bbm" in doc and "dsfont" in doc and "no digits" in doc  # the font note
    assert "bbm" not in sg.derive(y).latex(document=True)


# ---- errors -----------------------------------------------------------------------------------
def test_bad_input_raises_symgrad_errors():
    y, _ = founding()
    W = sg.matrix("W", n, m)
    cases = [
        (lambda: sg.derive(y, [W @ W.T]), sg.DifferentiationError, "variable"),
        (lambda: sg.derive(y, []), sg.DifferentiationError, "at least one"),
        (lambda: sg.derive(y, [W, W]), sg.DifferentiationError, "twice"),
        (lambda: sg.derive(sg.ones(n, m)), sg.DifferentiationError, "no variables"),
        (lambda: sg.derive(y, colour="red"), sg.SymgradError, "unknown derivation option"),
        (lambda: sg.derive(y, upstream="nabla"), sg.SymgradError, "frac, bar, delta"),
        (lambda: sg.derive(y, bold="yes"), sg.SymgradError, "True or False"),
        (lambda: sg.derive(y, ones=""), sg.SymgradError, "non-empty"),
        (lambda: sg.derive(sg.sum(sg.matrix("M", n, n)), ones="M"), sg.SymgradError,
         "ones symbol"),
        (lambda: sg.derive(sg.trace(W.T @ sg.matrix("dW", n, m)), W), sg.SymgradError,
         "like a symbol of the derivation"),
        (lambda: sg.derive(sg.sum(sg.tanh(sg.name("W", sg.tanh(W)))), W), sg.SymgradError,
         "like a symbol of the derivation"),
        (lambda: sg.derive(sg.matrix("f", m, n) @ W), sg.SymgradError,
         "the name of the expression derived"),
        (lambda: sg.derive(y).save("grad.docx"), sg.SymgradError, ".pdf, .png"),
        (lambda: sg.derive(y).save("grad.png", dpi=0), sg.SymgradError, "dpi"),
        (lambda: sg.derive("not an expression"), sg.SymgradError, "cannot use str"),
    ]
    for fn, err, words in cases:
        with pytest.raises(err, match=re.escape(words)):
            fn()


def test_missing_tools_raise_a_clear_error(monkeypatch, tmp_path):
    import symgrad.derivation.tex as mod

    monkeypatch.setattr(mod.shutil, "which", lambda tool: None)
    dv = sg.derive(founding()[0])
    with pytest.raises(sg.ToolError, match="pdflatex is not installed.*apt-get install"):
        dv.save(tmp_path / "grad.pdf")
    assert not (tmp_path / "grad.pdf").exists()
    dv.save(tmp_path / "grad.tex")  # .tex needs no tools
    assert (tmp_path / "grad.tex").read_text().startswith(r"\documentclass")


# ---- LaTeX that compiles ------------------------------------------------------------------------
def need(tool: str) -> None:
    """Skip locally when a tool is missing; in CI (CI=true) a missing tool is a failure."""
    if shutil.which(tool):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{tool} is missing in CI; .ci/run installs it (texlive, poppler-utils)")
    pytest.skip(f"{tool} is not installed")


def test_every_derivation_compiles(derivations, variants, tmp_path):
    """One pdflatex run (-halt-on-error) over every example and option variant."""
    need("pdflatex")
    every = {**derivations, **variants}
    pre = []
    for dv in every.values():
        pre += [p for p in dv.options.packages() if p not in pre]
    body = []
    for name, dv in every.items():
        body += [rf"\typeout{{symgrad-example: {name}}}", rf"\section*{{{name}}}", dv.latex()]
    tex = "\n".join([r"\documentclass[11pt]{article}", r"\usepackage[a4paper,margin=2cm]{geometry}",
                     *pre, r"\allowdisplaybreaks", r"\begin{document}", *body,
                     r"\end{document}", ""])
    try:
        compile_latex(tex, tmp_path, "all")
    except sg.ToolError as exc:
        log = (tmp_path / "all.log").read_text(errors="replace")
        names = re.findall(r"symgrad-example: (\S+)", log)
        pytest.fail(f"{names[-1] if names else '?'} does not compile: {exc}")
    assert (tmp_path / "all.pdf").read_bytes().startswith(b"%PDF")


def test_documents_compile_and_mlp_fits_one_page(derivations, tmp_path):
    need("pdflatex")
    for name in ("founding", "mlp-4"):
        pdf = compile_latex(derivations[name].latex(document=True), tmp_path, name)
        if name == "mlp-4":  # the 4-layer MLP reads like a textbook page: one page
            assert pdf_pages(pdf) == 1
    y, _ = founding()
    compile_latex(sg.derive(y, ones=r"\mathbb{1}").latex(document=True), tmp_path, "bb")


def test_save_pdf_and_png(derivations, tmp_path):
    need("pdflatex")
    need("pdftoppm")
    dv = derivations["founding"]
    pdf, png = dv.save(tmp_path / "grad.pdf"), dv.save(tmp_path / "grad.png", dpi=60)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf_pages(pdf) == 1
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_latex_errors_are_reported(tmp_path):
    need("pdflatex")
    with pytest.raises(sg.ToolError, match="Undefined control sequence"):
        compile_latex("\\documentclass{article}\\begin{document}$\\nosuchmacro$\\end{document}",
                      tmp_path)


# ---- KaTeX (optional): every printed expression renders in display mode -------------------------
KATEX_JS = r"""
const katex = require(process.argv[2]);
let data = "";
process.stdin.on("data", c => data += c);
process.stdin.on("end", () => {
  const out = {};
  for (const [id, tex, display] of JSON.parse(data)) {
    try { katex.renderToString(tex, {displayMode: display, throwOnError: true}); }
    catch (e) { out[id] = String(e.message || e); }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def katex() -> Path:
    """The KaTeX the web page ships (symgrad/web/static/katex), run by node."""
    if not shutil.which("node"):
        pytest.skip("node is needed for the KaTeX test")
    path = Path(__file__).parent.parent / "symgrad" / "web" / "static" / "katex" / "katex.min.js"
    assert path.exists(), f"KaTeX is not shipped at {path}"
    return path


def test_katex_renders_every_expression(derivations, variants, katex, tmp_path):
    import json
    import subprocess

    items = []
    for name, dv in {**derivations, **variants}.items():
        md = dv.markdown()
        for i, block in enumerate(re.findall(r"\$\$\n(.*?)\n\$\$", md, re.S)):
            items.append([f"{name}/block{i}", block, True])
        for i, inline in enumerate(re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", md)):
            items.append([f"{name}/inline{i}", inline, False])
        for i, line in enumerate(dv.lines()):
            items.append([f"{name}/line{i}", line, True])
    script = tmp_path / "check.js"
    script.write_text(KATEX_JS)
    proc = subprocess.run(["node", str(script), str(katex)], input=json.dumps(items),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {}
    assert len(items) > 200



def test_figures_script_runs():
    """benchmarks/derivation_figures.py, without rendering: the 4-layer MLP's line count."""
    import runpy

    path = Path(__file__).parent.parent / "benchmarks" / "derivation_figures.py"
    main = runpy.run_path(str(path))["main"]
    assert main(["--repeat", "1", "--no-render"]) == 0
