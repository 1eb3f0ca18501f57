"""Rendering a derivation: LaTeX (align*, standalone documents), Markdown, Unicode text, and
the line breaking of long sums."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..jvp import signed
from ..node import Node
from ..op import ADD, ATOM, NEG
from ..ops import core, shape
from ..printing import GREEK_UNICODE, UNICODE, Printer, Style

if TYPE_CHECKING:
    from .model import Derivation, Part


# ---- printing: the symbols of a derivation ----------------------------------------------------
class StepPrinter(Printer):
    """The style's printer, plus the derivation's own symbols (dW, Z̄₁, L) and thin spaces
    next to differentials (dW\\, X: "dW X" would read as d(W X))."""

    def __init__(self, style: Style, symbols: dict[Node, tuple[str, str]],
                 small: bool = False) -> None:
        super().__init__(style)
        self.symbols = symbols
        self.small = small and self.is_latex  # \tfrac inside tr(...): lines stay low
        self.diffs: set[str] = set()  # printed differentials (dW, dWᵀ)

    def upstream(self, of: str) -> tuple[str, int]:
        s, p = super().upstream(of)
        if self.small and s.startswith(r"\frac"):
            return r"\tfrac" + s[len(r"\frac"):], p
        return s, p

    def func(self, name: str, arg: str) -> str:
        if self.small and r"\tfrac" in arg:
            return rf"{name}\big({arg}\big)"
        return super().func(name, arg)

    def fmt(self, n: Node) -> tuple[str, int]:
        hit = self.memo.get(n)
        if hit is not None:
            return hit
        sym = self.symbols.get(n)
        if sym is not None:
            out = (sym[0] if self.is_latex else sym[1]), ATOM
        else:
            out = super().fmt(n)
        base = n.args[0] if n.op in (shape.T, shape.RESHAPE) else n
        if base.op is core.VAR and base.params[0].startswith("d("):
            self.diffs.add(out[0])
        self.memo[n] = out
        return out

    def juxt(self, a: str, b: str) -> str:
        # dW\, X and W\, dX; none needed after a closing parenthesis: (G)ᵀ dW
        after = any(a == s or a.endswith(" " + s) for s in self.diffs)
        before = not re.search(r"\)(\^\{[^{}]*\})?$", a) and any(
            b == s or b.startswith(s + " ") or b.startswith(s + "\\,") for s in self.diffs)
        if self.is_latex and (after or before):
            return a + r"\, " + b
        return super().juxt(a, b)


def unicode_token(tex: str) -> str:
    """A Unicode stand-in for a LaTeX token: \\ell -> ℓ, \\mathbb{1} -> 𝟙, \\mathbf{1} -> 1."""
    special = {r"\ell": "ℓ", r"\mathbb{1}": "𝟙", r"\mathbbm{1}": "𝟙", r"\mathds{1}": "𝟙",
               r"\mathcal{L}": "ℒ"}
    if tex in special:
        return special[tex]
    s = re.sub(r"\\(?:mathbf|mathrm|mathit|mathsf|bm|boldsymbol)\{([^{}]*)\}", r"\1", tex)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK_UNICODE.get(m.group(1), m.group(1)), s)
    return s.replace("{", "").replace("}", "") or tex


def _bar(s: str, unicode: bool) -> str:
    """s with a bar over it, subscripts kept outside: \\bar{Z}_{1}."""
    if unicode:
        return s[0] + "\u0304" + s[1:]
    m = re.fullmatch(r"(.*?)(_\{[^{}]*\})", s)
    return rf"\bar{{{m.group(1)}}}{m.group(2)}" if m else rf"\bar{{{s}}}"


def notation(kind: str, s: str, loss: str, unicode: bool) -> str:
    """The gradient of L w.r.t. the thing printed s, in notation `kind`."""
    if unicode:
        return {"bar": _bar(s, True), "delta": f"δ_{s}"}.get(kind, f"∂{loss}/∂{s}")
    if kind == "bar":
        return _bar(s, False)
    if kind == "delta":
        return rf"\delta_{{{s}}}"
    return rf"\frac{{\partial {loss}}}{{\partial {s}}}"


def _text(s: str) -> str:
    """Words made safe for \\text{...}."""
    return re.sub(r"([%&#_$])", r"\\\1", s)


# ---- layout -----------------------------------------------------------------------------------
_LINE = 64  # characters of Unicode math that fit beside a note on an A4 line


def _break(terms: Sequence[Node], P: Printer, U: Printer) -> list[str]:
    """A sum as lines of at most _LINE characters; later lines start with + or -."""
    lines: list[str] = []
    cur, width = "", 0
    for i, t in enumerate(terms):
        sign, body = signed(t)
        P(body)  # print children first (keeps the printer's recursion shallow)
        s = P.arg(body, NEG + 1) if sign < 0 else P.arg(body, ADD)
        w = len(U(body)) + 3
        op = "-" if sign < 0 else "+"
        if i == 0:
            cur, width = (f"-{s}" if sign < 0 else s), w
        elif width + w > _LINE:
            lines.append(cur)
            cur, width = f"{op} {s}", w
        else:
            cur, width = f"{cur} {op} {s}", width + w
    lines.append(cur)
    return lines


def _latex_lines(lhs: str, rhs: list[str], note: str) -> list[str]:
    first = f"{lhs} &= {rhs[0]}" + (rf" && {note}" if note else "")
    return [first] + [rf"&\quad {r}" for r in rhs[1:]]


# ---- a derivation as rows, then as LaTeX, Markdown and text ------------------------------------
def _printer(d: Derivation, latex: bool, small: bool = False,
             marked: bool = False) -> StepPrinter:
    st = d.options.style
    if not latex:
        st = replace(UNICODE, ones=unicode_token(st.ones), loss=unicode_token(st.loss),
                     size_subscripts=st.size_subscripts, upstream=st.upstream)
    return StepPrinter(replace(st, mark_broadcasts=marked), d._symbols, small)


def _note(parts: Sequence[Part], P: StepPrinter) -> str:
    out = []
    for p in parts:
        if isinstance(p, Node):
            out.append(P(p))
        elif P.is_latex:
            out.append(rf"\text{{{_text(p)}}}")
        else:
            out.append(p)
    return " ".join(out) if P.is_latex else "".join(out)


def _prose(parts: Sequence[Part], P: StepPrinter, math: str = "$") -> str:
    return "".join(f"{math}{P(p)}{math}" if isinstance(p, Node) else p for p in parts)


def rows(d: Derivation, latex: bool) -> list[tuple[str, str, list[str], str]]:
    """(prose, lhs, rhs lines, note) rows; the first row of a `given` step marks broadcasts,
    and the chain rule's lines use small fractions. A long sum breaks into lines; each
    line after the first starts with its + or -."""
    out = []
    P = _printer(d, latex)
    U = _printer(d, False)
    marked, small = _printer(d, latex, marked=True), _printer(d, latex, small=True)
    for step in d.steps:
        prose = _prose(step.prose, P, "$" if P.is_latex else "") if step.prose else ""
        for i, eq in enumerate(step.equations):
            pr = marked if step.kind == "given" and i == 0 else (
                small if step.kind == "chain" else P)
            lhs = P(eq.lhs) if eq.lhs is not None else ""
            note = _note(eq.note, P) if d.options.notes and eq.note else ""
            if eq.terms and len(U(eq.rhs)) > _LINE:
                rhs = _break(eq.terms, pr, U)
            else:
                rhs = [pr(eq.rhs)]
            out.append((prose if i == 0 else "", lhs, rhs, note))
    return out


def lines(d: Derivation) -> list[str]:
    """The equations as LaTeX, one `lhs = rhs` per line (continuations start with '=')."""
    return [(f"{lhs} = " if lhs else "= ") + " ".join(rhs) for _, lhs, rhs, _ in rows(d, True)]


def align(d: Derivation) -> str:
    """The derivation as an amsmath align* block, prose in \\intertext."""
    out: list[str] = []
    for prose, lhs, rhs, note in rows(d, True):
        if prose and out:
            out[-1] += r" \\"
            out.append(rf"\intertext{{{prose}}}")
        if out and not out[-1].endswith(r"\\") and not out[-1].startswith(r"\intertext"):
            out[-1] += r" \\"
        ls = _latex_lines(lhs, rhs, note)
        out += [ln + r" \\" for ln in ls[:-1]] + ls[-1:]
    return "\\begin{align*}\n" + "\n".join(out) + "\n\\end{align*}"


def _preamble(d: Derivation) -> list[str]:
    return [
        r"\documentclass[11pt]{article}",
        r"\usepackage[a4paper,margin=2cm]{geometry}",
        *d.options.packages(),
    ]


def document(d: Derivation) -> str:
    """A standalone .tex file that compiles."""
    return "\n".join([
        *_preamble(d),
        r"\allowdisplaybreaks",
        r"\pagestyle{empty}",
        r"\begin{document}",
        align(d),
        r"\end{document}",
        "",
    ])


def tight_document(d: Derivation) -> str:
    """The derivation on a page cut to its size (for PNG): a box measured, then shipped."""
    return "\n".join([
        *_preamble(d),
        r"\pagestyle{empty}",
        r"\newsavebox{\symgradbox}",
        r"\begin{document}",
        r"\begin{lrbox}{\symgradbox}\begin{minipage}{\textwidth}",
        align(d),
        r"\end{minipage}\end{lrbox}",
        r"\pdfpagewidth=\dimexpr\wd\symgradbox+24pt\relax",
        r"\pdfpageheight=\dimexpr\ht\symgradbox+\dp\symgradbox+24pt\relax",
        r"\hoffset=-1in \voffset=-1in \oddsidemargin=12pt \evensidemargin=12pt",
        r"\topmargin=0pt \headheight=0pt \headsep=0pt \topskip=0pt",
        r"\noindent\usebox{\symgradbox}",
        r"\end{document}",
        "",
    ])


def markdown(d: Derivation) -> str:
    """$$ blocks (aligned) for KaTeX and MathJax, with the prose between them."""
    blocks: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            blocks.append("$$\n\\begin{aligned}\n" + " \\\\\n".join(pending)
                          + "\n\\end{aligned}\n$$")
            pending.clear()

    for prose, lhs, rhs, note in rows(d, True):
        if prose:
            flush()
            blocks.append(prose)
        pending.extend(_latex_lines(lhs, rhs, note))
    flush()
    return "\n\n".join(blocks) + "\n"


def text(d: Derivation) -> str:
    """Unicode text: right-aligned left sides, notes in a column."""
    rs = rows(d, False)
    width = max((len(lhs) for _, lhs, _, _ in rs), default=0)
    rhs_w = min(_LINE, max((len(r[0]) for _, _, r, _ in rs), default=0))
    out = []
    for prose, lhs, rhs, note in rs:
        if prose:
            out.append(prose)
        line = f"{lhs:>{width}} = {rhs[0]}"
        if note:
            line = f"{line:<{width + 3 + rhs_w}}   {note}"
        out.append(line.rstrip())
        out += [" " * (width + 5) + r for r in rhs[1:]]
    return "\n".join(out)
