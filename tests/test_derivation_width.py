"""Paste-ready derivations: lines fit an article's text width (width="text") and a two-column
paper's column (width="column"), checked by pdflatex's overfull-box warnings; Hessian
derivations say one differential symbol and the variable's own name; a missing font package
is a warning and a fallback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_derivation import EXAMPLES, hessian_examples, need

import symgrad as sg
from symgrad.derivation import compile_latex, render, tex
from symgrad.derivation.measure import latex_width
from symgrad.errors import SymgradWarning

PASTED = {  # the derivations a paper pastes: the founding example, deep, softmax, a Hessian
    "founding": lambda kw: sg.derive(*EXAMPLES["founding"](), **kw),
    "mlp-4": lambda kw: sg.derive(*EXAMPLES["mlp-4"](), **kw),
    "softmax-ce": lambda kw: sg.derive(*EXAMPLES["softmax-ce"](), **kw),
    "hessian-trace-vec": lambda kw: sg.derive(*hessian_examples()["hessian-trace-vec"],
                                              order=2, **kw),
    "hessian-least-squares": lambda kw: sg.derive(
        *hessian_examples()["hessian-least-squares"], order=2, **kw),
}
LAYOUTS = {"text": r"\documentclass{article}", "column": r"\documentclass[twocolumn]{article}"}


def overfull(d: sg.Derivation, documentclass: str, tmp_path: Path) -> list[str]:
    """The overfull-box warnings of d's align* block pasted into a plain document."""
    source = "\n".join([documentclass, *d.options.packages(), r"\begin{document}", d.latex(),
                        r"\end{document}", ""])
    compile_latex(source, tmp_path, "paper")
    return re.findall(r"Overfull \\hbox \([\d.]+pt too wide\)",
                      (tmp_path / "paper.log").read_text(errors="replace"))


@pytest.mark.parametrize("width", LAYOUTS)
@pytest.mark.parametrize("name", PASTED)
def test_lines_fit_the_page(name, width, tmp_path):
    need("pdflatex")
    d = PASTED[name](dict(width=width))
    assert overfull(d, LAYOUTS[width], tmp_path) == []
    assert d.verify().ok


def test_text_width_overflows_a_column(tmp_path):
    """The check above can fail: the founding example laid out for the text width is too wide
    for a column, and its long chain-rule lines are broken only for the column."""
    need("pdflatex")
    text, column = (PASTED["founding"](dict(width=w)) for w in ("text", "column"))
    assert overfull(text, LAYOUTS["column"], tmp_path)
    assert text.lines() == column.lines()  # the same equations, laid out differently
    assert len(column.latex().splitlines()) > len(text.latex().splitlines())


def test_width_estimate_follows_pdflatex(tmp_path):
    """The em estimate that line breaking uses, against the widths pdflatex sets."""
    need("pdflatex")
    pieces = sorted({piece for make in PASTED.values()
                     for row in render.rows(make({}), True)
                     for piece in [row.lhs, *row.rhs, row.note] if piece})
    boxes = [rf"\setbox0\hbox{{$\displaystyle {p}$}}\typeout{{W{i}:\the\wd0}}"
             for i, p in enumerate(pieces)]
    compile_latex("\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
                             r"\begin{document}", *boxes, "x", r"\end{document}"]),
                  tmp_path, "widths")
    log = (tmp_path / "widths.log").read_text(errors="replace")
    real = {int(i): float(w) / 10 for i, w in re.findall(r"W(\d+):([\d.]+)pt", log)}  # 10pt
    assert len(real) == len(pieces)
    for i, p in enumerate(pieces):
        if real[i] > 6:  # long pieces decide the breaks; never much narrower than printed
            assert 0.9 <= latex_width(p) / real[i] <= 1.3, (p, latex_width(p), real[i])


def test_width_option():
    assert sg.DerivationOptions().width == "text"
    assert sg.derive(*EXAMPLES["founding"](), width="column").options.width == "column"
    for bad in ("narrow", 3, None):
        with pytest.raises(sg.SymgradError, match="width must be one of text, column"):
            sg.derive(*EXAMPLES["founding"](), width=bad)


def test_column_documents_are_two_column():
    d = PASTED["founding"](dict(width="column"))
    assert d.latex(document=True).startswith(r"\documentclass[11pt,twocolumn]{article}")
    assert PASTED["founding"]({}).latex(document=True).startswith(
        r"\documentclass[11pt]{article}")


# ---- Hessian derivations: names and differentials ---------------------------------------------
n = sg.dims("n")
w, A, X = sg.vector("w", n), sg.matrix("A", n, n), sg.matrix("X", n, n)


def test_hessian_says_the_variable_name():
    d = sg.derive(w @ A @ w, w, order=2)
    text = d.latex()
    assert "against $dw$" in text and "along $dw$" in text
    assert "dx" not in text and "dx" not in str(d)
    assert d.lines()[1:3] == [r"dL = ((A + A^{\top}) w)^{\top} dw",
                              r"d^2 L = dw^{\top} (A + A^{\top}) dw"]


@pytest.mark.parametrize("y,v", [(w @ A @ w, w), (sg.trace(X.T @ A @ X), sg.vec(X))])
def test_hessian_uses_one_differential_symbol(y, v):
    d = sg.derive(y, v, order=2, differential=r"\mathrm{d}", loss=r"\ell")
    body = d.latex()
    name = "w" if v is w else "X"
    assert r"\mathrm{d}\ell &=" in body and r"\mathrm{d}^2 \ell &=" in body
    assert rf"\mathrm{{d}}{name}" in body
    # no bare d: every differential is \mathrm{d}, and the loss is the one asked for
    bare = re.search(rf"(?<![A-Za-z\\])d(?:{name}|L|\\ell|\^2)", body.replace(r"\mathrm{d}", ""))
    assert bare is None, body
    assert r"\partial L" not in body and r"\partial^2 L" not in body
    assert d.verify().ok


def test_hessian_refuses_a_variable_printed_like_its_differential():
    dw = sg.vector("dw", n)
    with pytest.raises(sg.SymgradError, match="like a symbol of the derivation"):
        sg.derive(w @ A @ w + dw @ w, w, order=2)


# ---- a missing font package: a warning and \mathbf{1} -------------------------------------------
def compiled_sources(monkeypatch) -> list[str]:
    """Record what save() hands to pdflatex."""
    seen: list[str] = []
    real = tex.compile_latex

    def spy(source, workdir, name="derivation"):
        seen.append(source)
        return real(source, workdir, name)

    monkeypatch.setattr(tex, "compile_latex", spy)
    return seen


def test_missing_font_package_warns_and_falls_back(monkeypatch, tmp_path):
    need("pdflatex")
    monkeypatch.setattr(tex, "find_package", lambda name: None)
    seen = compiled_sources(monkeypatch)
    d = PASTED["founding"](dict(ones=r"\mathbb{1}"))
    with pytest.warns(SymgradWarning, match=r"bbm or dsfont.*texlive-fonts-extra") as caught:
        d.save(tmp_path / "grad.pdf")
    assert caught[0].filename == __file__  # the user's line, not symgrad's source
    assert (tmp_path / "grad.pdf").exists()
    body = seen[0].split(r"\begin{document}")[1]
    assert r"\mathbf{1}_{k}" in body and r"\mathbb" not in body
    assert r"\mathbb{1}" in d.latex()  # the text to paste keeps the symbol asked for


def test_installed_font_package_is_used(monkeypatch, tmp_path):
    monkeypatch.setattr(tex, "find_package", lambda name: f"/fonts/{name}.sty")
    seen: list[str] = []
    monkeypatch.setattr(tex, "write_pdf", lambda source, path: seen.append(source))
    d = PASTED["founding"](dict(ones=r"\mathbb{1}"))
    d.save(tmp_path / "grad.pdf")
    assert r"\mathbb{1}_{k}" in seen[0]


def test_missing_named_font_package_falls_back_too(monkeypatch):
    monkeypatch.setattr(tex, "find_package", lambda name: None)
    d = PASTED["founding"](dict(ones=r"\mathds{1}"))
    with pytest.warns(SymgradWarning, match="dsfont"):
        fallback = d._compilable()
    assert fallback.options.style.ones == r"\mathbf{1}" and d.options.style.ones == r"\mathds{1}"
