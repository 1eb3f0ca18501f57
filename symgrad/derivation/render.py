"""Rendering a derivation: LaTeX (align*, standalone documents), Markdown, Unicode text, and
the line breaking of long sums."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..jvp import signed
from ..names import GREEK_UNICODE
from ..node import Node
from ..op import ADD, ATOM, NEG, PROD
from ..ops import arith, core, shape
from ..printing import UNICODE, Printer, Style
from .measure import latex_width
from .options import WIDTHS

if TYPE_CHECKING:
    from .model import Derivation, Equation, Part


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

    def __call__(self, root: Node) -> str:
        sym = self.symbols.get(root)  # a symbol is its name, whatever its order (f, not f_{ijk})
        if sym is not None:
            return sym[0] if self.is_latex else sym[1]
        return super().__call__(root)

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
        if base.op is core.VAR and base.params.name.startswith("d("):
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
_CHARS = {"text": 64, "column": 40}  # characters of Unicode math beside a note, in str(d)
_SAFE = 0.95  # the width estimate errs by a few percent on long lines: keep a margin
_REL = 1.4  # "= " after the left side, in em
_SEP = 1.0  # amsmath's \minalignsep between the equations and the notes
_QUAD = 1.0  # the indent of a continuation line
_ALONE = 0.3  # a left side wider than this share of the line gets a row of its own
_BESIDE = 0.4  # notes stay beside the equations while this share of the line is left


@dataclass
class Row:
    """One equation as printed: the prose before it, its sides (the right one in lines), its
    note, and the layout: note below the equation, left side on a row of its own."""

    prose: str
    lhs: str
    rhs: list[str]
    note: str
    note_below: bool = False
    lhs_alone: bool = False


def _summands(eq: Equation) -> list[Node]:
    """The terms of the right side where a long line may break: the equation's own, or the
    operands of a sum at its top (a - b as a and -b; a - (b + c) keeps b + c whole)."""
    if eq.terms:
        return list(eq.terms)
    out, stack = [], [eq.rhs]
    while stack:
        t = stack.pop()
        if t.op is arith.ADD_OP:
            stack += [t.args[1], t.args[0]]
        elif t.op is arith.SUB_OP:
            stack += [arith.neg(t.args[1]), t.args[0]]
        else:
            out.append(t)
    return out


def _break(terms: Sequence[Node], P: Printer, measure, budget: float) -> list[str]:
    """A sum as lines of at most `budget` (measure's unit); later lines start with + or -."""
    lines: list[str] = []
    cur, width = "", 0.0
    for i, t in enumerate(terms):
        sign, body = signed(t)
        P(body)  # print children first (keeps the printer's recursion shallow)
        s = P.arg(body, NEG + 1) if sign < 0 else P.arg(body, ADD)
        op = "-" if sign < 0 else "+"
        w = measure(f"{op} {s}")
        if i == 0:
            cur, width = (f"-{s}" if sign < 0 else s), w
        elif width + w > budget:
            lines.append(cur)
            cur, width = f"{op} {s}", w
        else:
            cur, width = f"{cur} {op} {s}", width + w
    lines.append(cur)
    return lines


def _latex_lines(row: Row) -> list[str]:
    rhs = row.rhs
    if row.lhs_alone:  # the left side from the alignment point on, the right side below
        out = [rf"&\rlap{{$\displaystyle {row.lhs} = {{}}$}}"] + [rf"&\quad {r}" for r in rhs]
    else:
        out = [f"{row.lhs} &= {rhs[0]}"] + [rf"&\quad {r}" for r in rhs[1:]]
    if row.note and row.note_below:
        out.append(rf"&\quad {row.note}")
    elif row.note:
        out[0] += rf" && {row.note}"
    return out


def _plan(d: Derivation, sides: list[tuple[str, str]]) -> tuple[float, bool, set[int]]:
    """For LaTeX lines (lhs, note) of a derivation: the width left for right sides (em),
    whether notes fit beside the equations, and the rows whose left side goes alone."""
    full = WIDTHS[d.options.width] * _SAFE
    widths = [latex_width(lhs) for lhs, _ in sides]
    alone = {i for i, w in enumerate(widths) if w > _ALONE * full}
    lhs_w = max((w for i, w in enumerate(widths) if i not in alone), default=0.0)
    note_w = max((latex_width(note) for _, note in sides if note), default=0.0)
    rest = full - lhs_w - _REL
    beside = note_w == 0 or rest - _SEP - note_w >= _BESIDE * full
    return (rest - _SEP - note_w if beside else rest), beside, alone


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


def _parenthesized(parts: Sequence[Part]) -> tuple[Part, ...]:
    """(note), the parentheses inside the words at either end where there are words."""
    out = list(parts)
    if isinstance(out[0], str):
        out[0] = "(" + out[0]
    else:
        out.insert(0, "(")
    if isinstance(out[-1], str):
        out[-1] += ")"
    else:
        out.append(")")
    return tuple(out)


def _prose(parts: Sequence[Part], P: StepPrinter, math: str = "$") -> str:
    return "".join(f"{math}{P(p)}{math}" if isinstance(p, Node) else p for p in parts)


def rows(d: Derivation, latex: bool) -> list[Row]:
    """The rows of a derivation laid out for its width; the first row of a `given` step
    marks broadcasts, and the chain rule's lines use small fractions. A long sum breaks into
    lines; each line after the first starts with its + or -."""
    P = _printer(d, latex)
    U = _printer(d, False)
    marked, small = _printer(d, latex, marked=True), _printer(d, latex, small=True)
    eqs = []
    for step in d.steps:
        prose = _prose(step.prose, P, "$" if P.is_latex else "") if step.prose else ""
        for i, eq in enumerate(step.equations):
            pr = marked if step.kind == "given" and i == 0 else (
                small if step.kind == "chain" else P)
            lhs = P(eq.lhs) if eq.lhs is not None else ""
            note = _note(eq.note, P) if d.options.notes and eq.note else ""
            eqs.append((prose if i == 0 else "", lhs, eq, pr, note))
    if latex:
        budget, beside, alone = _plan(d, [(lhs, note) for _, lhs, _, _, note in eqs])
        measure = latex_width
    else:
        budget, beside, alone = _CHARS[d.options.width], True, set()
        measure = len
    out = []
    for k, (prose, lhs, eq, pr, note) in enumerate(eqs):
        room = budget - (_QUAD if k in alone else 0.0)
        if eq.batch == "sum":  # a sum over the slices stays on its line
            out.append(Row(prose, lhs, [_over_slices(d, eq.rhs, pr)], note, False, k in alone))
            if note and not beside:
                out[-1].note, out[-1].note_below = _note(_parenthesized(eq.note), P), True
            continue
        long = measure(pr(eq.rhs) if latex else U(eq.rhs)) > room
        terms = _summands(eq) if long else []
        if len(terms) > 1:  # continuation lines are indented by a quad
            rhs = _break(terms, pr, measure if latex else (lambda s: len(s) + 1),
                         room - (_QUAD if latex else 0))
        else:
            rhs = [pr(eq.rhs)]
        if note and not beside:  # a note on a line of its own reads as an aside
            note = _note(_parenthesized(eq.note), P)
        out.append(Row(prose, lhs, rhs, note, not beside, k in alone))
    return out


def _over_slices(d: Derivation, rhs: Node, P: StepPrinter) -> str:
    """\\sum_{i=1}^{B} rhs: a right side summed over the slices of a batched derivation."""
    b = d._batch
    body = P.arg(rhs, PROD)
    if P.is_latex:
        return " ".join(rf"\sum_{{{t}=1}}^{{{P.size(z)}}}" for t, z in zip(b.tags, b.sizes)) \
            + f" {body}"
    return f"Σ_{''.join(b.tags)} {body}"


def lines(d: Derivation) -> list[str]:
    """The equations as LaTeX, one `lhs = rhs` per line (continuations start with '=')."""
    return [(f"{r.lhs} = " if r.lhs else "= ") + " ".join(r.rhs) for r in rows(d, True)]


def align(d: Derivation) -> str:
    """The derivation as an amsmath align* block, prose in \\intertext."""
    out: list[str] = []
    for row in rows(d, True):
        if row.prose and out:
            out[-1] += r" \\"
            out.append(rf"\intertext{{{row.prose}}}")
        if out and not out[-1].endswith(r"\\") and not out[-1].startswith(r"\intertext"):
            out[-1] += r" \\"
        ls = _latex_lines(row)
        out += [ln + r" \\" for ln in ls[:-1]] + ls[-1:]
    return "\\begin{align*}\n" + "\n".join(out) + "\n\\end{align*}"


def _preamble(d: Derivation) -> list[str]:
    columns = ",twocolumn" if d.options.width == "column" else ""
    return [
        rf"\documentclass[11pt{columns}]{{article}}",
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
        r"\begin{lrbox}{\symgradbox}\begin{minipage}{\columnwidth}",
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

    for row in rows(d, True):
        if row.prose:
            flush()
            blocks.append(row.prose)
        # \rlap takes text with math inside, which KaTeX and MathJax do not all read
        pending.extend(_latex_lines(replace(row, lhs_alone=False)))
    flush()
    return "\n\n".join(blocks) + "\n"


def text(d: Derivation) -> str:
    """Unicode text: right-aligned left sides, notes in a column."""
    rs = rows(d, False)
    width = max((len(r.lhs) for r in rs), default=0)
    rhs_w = min(_CHARS[d.options.width], max((len(r.rhs[0]) for r in rs), default=0))
    out = []
    for r in rs:
        if r.prose:
            out.append(r.prose)
        line = f"{r.lhs:>{width}} = {r.rhs[0]}"
        if r.note:
            line = f"{line:<{width + 3 + rhs_w}}   {r.note}"
        out.append(line.rstrip())
        out += [" " * (width + 5) + rhs for rhs in r.rhs[1:]]
    return "\n".join(out)
