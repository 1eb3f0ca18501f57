"""Step-by-step derivations, printed as a paper prints them: sg.derive(y, wrt) -> Derivation.

Two shapes of derivation, chosen by the expression:

- *Differential* (one layer: the founding example, the Matrix Cookbook): the expression as
  given (broadcasts marked ⊕), made explicit (b 1ᵀ), its differential df, the chain rule
  dL = tr((∂L/∂f)ᵀ df), and each gradient read off by trace cyclicity.
- *Backprop* (deep: named or nonlinear intermediates): a forward pass that names the
  intermediates (Z₁ = X W₁ + 1 b₁ᵀ, H₁ = tanh(Z₁), ...), then one line per intermediate with
  barred cotangents (H̄₁ = Z̄₂ W₂ᵀ, Z̄₁ = H̄₁ ⊙ (1 - H₁∘²)), then each gradient.

No new per-op rule is needed. A differential is the transpose of the VJP: for an op linear in
an argument, the tangent is the op applied to the argument's tangent; otherwise it is the
gradient over u of <t, vjp(u)>, which is linear in u, computed by symgrad's own reverse mode.
Every step is an equation whose sides evaluate to numbers: Derivation.verify() checks them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sympy

from .errors import DifferentiationError, EvaluationError, SymgradError, ToolError
from .explicit import explicit
from .grad import _check_wrt, backprop, grad
from .names import GREEK_UNICODE
from .node import Node, substitute, topo
from .numeric import evaluate, random_env, random_sizes
from .op import ADD, ATOM, NEG
from .ops import arith, core, linalg, reduce, shape
from .printing import LATEX, UNICODE, Printer, Style
from .simplify import simplify

# ---- options ---------------------------------------------------------------------------------
_NOTATIONS = ("frac", "bar", "delta")
_STYLE_FIELDS = ("transpose", "ones", "size_subscripts", "bold", "loss", "upstream")


@dataclass(frozen=True)
class DerivationOptions:
    """Everything a paper author may choose, in one frozen object.

    style: the printing Style (ones symbol, transpose, bold, loss name, upstream notation,
    size subscripts on ones vectors). differential: the d of dW ("d" or r"\\mathrm{d}").
    cotangent: how the gradients of intermediates print in backprop lines ("bar": \\bar{Z},
    "delta": \\delta_{Z}, "frac": \\frac{\\partial L}{\\partial Z}). notes: words beside the
    equations. name_intermediates: name the layers of a deep expression Z₁, H₁, ...
    """

    style: Style = LATEX
    differential: str = "d"
    cotangent: str = "bar"
    notes: bool = True
    name_intermediates: bool = True

    def __post_init__(self) -> None:
        st = self.style
        if not isinstance(st, Style):
            raise SymgradError(f"style must be a symgrad Style, got {type(st).__name__}")
        for name in ("transpose", "ones", "loss", "differential"):
            value = getattr(st if name != "differential" else self, name)
            if not isinstance(value, str) or not value.strip():
                raise SymgradError(f"option {name} must be a non-empty LaTeX string, got "
                                   f"{value!r}")
        for name, value in (("upstream", st.upstream), ("cotangent", self.cotangent)):
            if value not in _NOTATIONS:
                raise SymgradError(f"option {name} must be one of {', '.join(_NOTATIONS)}; "
                                   f"got {value!r}")
        for name, value in (("size_subscripts", st.size_subscripts), ("bold", st.bold),
                            ("notes", self.notes),
                            ("name_intermediates", self.name_intermediates)):
            if not isinstance(value, bool):
                raise SymgradError(f"option {name} must be True or False, got {value!r}")

    @classmethod
    def make(cls, options: DerivationOptions | None = None, **kw) -> DerivationOptions:
        """Options from keywords: Style fields (transpose, ones, ...) and this class's fields."""
        base = options if options is not None else cls()
        if not isinstance(base, DerivationOptions):
            raise SymgradError(f"options must be DerivationOptions, got {type(base).__name__}")
        own = {f.name for f in dataclasses.fields(cls)} - {"style"}
        unknown = sorted(set(kw) - own - set(_STYLE_FIELDS) - {"style"})
        if unknown:
            valid = ", ".join(sorted(own | set(_STYLE_FIELDS)))
            raise SymgradError(f"unknown derivation option {', '.join(unknown)}; valid: {valid}")
        style = kw.pop("style", base.style)
        style_kw = {k: kw.pop(k) for k in list(kw) if k in _STYLE_FIELDS}
        if not isinstance(style, Style):
            raise SymgradError(f"style must be a symgrad Style, got {type(style).__name__}")
        style = replace(style, latex=True, mark_broadcasts=False, **style_kw)
        return replace(base, style=style, **kw)

    def packages(self) -> list[str]:
        """The preamble lines a standalone document needs for these options."""
        lines = [r"\usepackage{amsmath}", r"\usepackage{amssymb}"]
        ones = self.style.ones
        if r"\mathbb{1}" in ones or r"\mathbb 1" in ones:
            lines += [
                r"% \mathbb{1}: amssymb's blackboard bold has no digits (it prints a wrong",
                r"% glyph). bbm or dsfont draws it (Debian: texlive-fonts-extra); used if found.",
                r"\IfFileExists{bbm.sty}{\usepackage{bbm}\let\mathbb\mathbbm}{%",
                r"\IfFileExists{dsfont.sty}{\usepackage{dsfont}\let\mathbb\mathds}{}}",
            ]
        for macro, package in ((r"\mathbbm", "bbm"), (r"\mathds", "dsfont"), (r"\bm{", "bm")):
            if macro in ones or macro in self.style.transpose:
                lines.append(rf"\usepackage{{{package}}}")
        return lines


# ---- what a derivation is made of ------------------------------------------------------------
Part = str | Node  # words, or an expression printed as math


@dataclass(frozen=True)
class Equation:
    """lhs = rhs; a continuation line (lhs None) says "= rhs" of the line above."""

    lhs: Node | None
    rhs: Node
    note: tuple[Part, ...] = ()
    terms: tuple[Node, ...] = ()  # rhs as a sum, where a long line may break


@dataclass(frozen=True)
class Step:
    """One stage of a derivation: an optional sentence, then its equations."""

    kind: str  # given | differential | chain | gradients | forward | backward
    equations: tuple[Equation, ...]
    prose: tuple[Part, ...] = ()


@dataclass(frozen=True)
class _Check:
    label: str
    a: Node
    b: Node
    tol: float = 1e-8


@dataclass
class VerifyReport:
    """Numbers in the steps agree? Each check: |a - b| <= tol * max(1, |a|, |b|)."""

    ok: bool
    sizes: dict
    errors: dict[str, float] = field(default_factory=dict)  # check -> relative error
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        head = "steps agree" if self.ok else "steps DISAGREE"
        lines = [f"{head} ({len(self.errors)} checks; {sz})"]
        lines += [f"  BAD {label}: relative error {self.errors[label]:.2e}"
                  for label in self.failed]
        return "\n".join(lines)


# ---- printing: the symbols of a derivation ----------------------------------------------------
class _Printer(Printer):
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


def _unicode_token(tex: str) -> str:
    """A Unicode stand-in for a LaTeX token: \\ell -> ℓ, \\mathbb{1} -> 𝟙, \\mathbf{1} -> 1."""
    special = {r"\ell": "ℓ", r"\mathbb{1}": "𝟙", r"\mathbbm{1}": "𝟙", r"\mathds{1}": "𝟙",
               r"\mathcal{L}": "ℒ"}
    if tex in special:
        return special[tex]
    s = re.sub(r"\\(?:mathbf|mathrm|mathit|mathsf|bm|boldsymbol)\{([^{}]*)\}", r"\1", tex)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK_UNICODE.get(m.group(1), m.group(1)), s)
    return s.replace("{", "").replace("}", "") or tex


def _bar(s: str, unicode: bool) -> str:
    if unicode:
        return s[0] + "\u0304" + s[1:]
    m = re.fullmatch(r"(.*?)(_\{[^{}]*\})", s)
    return rf"\bar{{{m.group(1)}}}{m.group(2)}" if m else rf"\bar{{{s}}}"


def _notation(kind: str, s: str, loss: str, unicode: bool) -> str:
    """The gradient of L w.r.t. the thing printed s, in notation `kind`."""
    if unicode:
        return {"bar": _bar(s, True), "delta": f"δ_{s}"}.get(kind, f"∂{loss}/∂{s}")
    if kind == "bar":
        return _bar(s, False)
    if kind == "delta":
        return rf"\delta_{{{s}}}"
    return rf"\frac{{\partial {loss}}}{{\partial {s}}}"


def _text(s: str) -> str:
    return re.sub(r"([%&#_$])", r"\\\1", s)


# ---- the differential: JVPs as transposed VJPs ------------------------------------------------
def _depends(expr: Node, on: set[Node]) -> bool:
    return any(n in on for n in topo(expr))


def _linear_in(n: Node, j: int) -> bool:
    """Is n linear in its j-th argument? Its VJP there must not involve that argument (nor n),
    and n must vanish when that argument does (so add, affine, is not)."""
    a = n.args[j]
    # A fresh leaf in slot j: x may also occur inside the other arguments (xᵀA x).
    args = list(n.args)
    args[j] = core.variable("p(jvp)", *a.shape, kind="symbol")
    m = Node(n.op, tuple(args), n.params)
    needs = tuple(i == j for i in range(len(n.args)))
    u = core.variable("u(jvp)", *n.shape, kind="symbol")
    ct = m.op.vjp(m, u, needs)[j]
    if ct is None or _depends(ct, {args[j], m}):
        return False
    args[j] = core.zeros(*a.shape)
    return core.is_zero(simplify(Node(n.op, tuple(args), n.params)))


def _inner(t: Node, g: Node, tidy: bool = False) -> Node:
    """<g, t> as an expression: tr(gᵀ t) for matrices, gᵀ t for vectors, g t for scalars.
    tidy: move gᵀ's transpose inward (tr(X⁻¹ dX) rather than tr((X⁻ᵀ)ᵀ dX))."""
    if t.ndim == 2:
        gt = shape.transpose(g)
        return linalg.trace(linalg.matmul(simplify(gt) if tidy else gt, t))
    if t.ndim == 1:
        return linalg.matmul(g, t)
    return arith.mul(g, t)


def _local_jvp(n: Node, j: int, t: Node) -> Node:
    a = n.args[j]
    if _linear_in(n, j):  # d(A B) = dA B + A dB: the op itself, on the tangent
        args = list(n.args)
        c, args[j] = _coefficient(t)  # 2 (1ᵀ dx) and -(aᵀ X⁻¹ dX X⁻¹ b), not 1ᵀ 2 dx
        out = Node(n.op, tuple(args), n.params)
        if c == 1:
            return out
        return arith.neg(out) if c == -1 else arith.mul(core.number(c), out)
    needs = tuple(i == j for i in range(len(n.args)))
    if n.ndim == 0:  # a scalar: d(log det X) = <X^{-T}, dX> = tr(X^{-1} dX)
        g = shape.sum_to(n.op.vjp(n, core.number(1), needs)[j], a.shape)
        return simplify(_inner(t, simplify(g), tidy=True))
    u = core.variable("u(jvp)", *n.shape, kind="symbol")
    g = shape.sum_to(n.op.vjp(n, u, needs)[j], a.shape)
    (out,) = backprop(reduce.sum_(arith.mul(t, g)), core.number(1), [u])
    return simplify(out)


def _coefficient(t: Node) -> tuple[sympy.Expr, Node]:
    """t = c · rest for a constant c (1 when t has no constant factor in front)."""
    c = sympy.Integer(1)
    while True:
        if t.op is arith.NEG_OP:
            c, t = -c, t.args[0]
        elif t.op is arith.MUL_OP and core.const_value(t.args[0]) is not None:
            c, t = c * core.const_value(t.args[0]), t.args[1]
        else:
            return c, t


def tangent(y: Node, tangents: dict[Node, Node]) -> Node:
    """The differential of y when each variable v moves by tangents[v] (forward mode)."""
    d: dict[Node, Node] = dict(tangents)
    for n in topo(y):
        if n in d or not n.args:
            continue
        parts = [_local_jvp(n, j, d[a]) for j, a in enumerate(n.args) if a in d]
        if parts:
            total = parts[0]
            for p in parts[1:]:
                total = _plus(total, p)
            d[n] = total
    out = d.get(y)
    if out is None:
        return core.zeros(*y.shape)
    # The product rule's own form (dxᵀ A x + xᵀ A dx) unless simplifying shortens it.
    tidy = simplify(out)
    return tidy if _clutter(tidy) < _clutter(out) else out


def _clutter(e: Node) -> int:
    """How hard a form is to read: its length, transposes counted thrice."""
    s = str(e)
    return len(s) + 2 * s.count("ᵀ")


def _signed(t: Node) -> tuple[int, Node]:
    """(-1, c) when t is -c or a negative multiple, else (1, t)."""
    if t.op is arith.NEG_OP:
        return -1, t.args[0]
    if t.op is arith.MUL_OP:
        c = core.const_value(t.args[0])
        if c is not None and c.could_extract_minus_sign():
            return -1, t.args[1] if -c == 1 else arith.mul(core.number(-c), t.args[1])
    return 1, t


def _plus(a: Node, b: Node) -> Node:
    """a + b, written a - c when b is -c (so sums print without "+ -")."""
    sign, body = _signed(b)
    return arith.sub(a, body) if sign < 0 else arith.add(a, b)


def _total(terms: Sequence[Node], shape_) -> Node:
    if not terms:
        return core.zeros(*shape_)
    out = terms[0]
    for t in terms[1:]:
        out = _plus(out, t)
    return out


def _sum_eq(lhs: Node | None, terms: Sequence[Node], shape_, note: tuple = ()) -> Equation:
    return Equation(lhs, _total(terms, shape_), note, tuple(terms))


def _sum_words(g: Node) -> tuple[str, Node] | None:
    """'the row sums of', G when g is G 1 (and so on): a bias gradient said in words."""
    while g.op is shape.RESHAPE:
        g = g.args[0]
    if g.op is not reduce.SUM:
        return None
    x, (axes, _) = g.args[0], g.params
    if x.op is shape.T and x.ndim == 2:
        x, axes = x.args[0], tuple(sorted(1 - a for a in axes))
    if x.ndim == 2 and axes == (1,):
        return "the row sums of ", x
    if x.ndim == 2 and axes == (0,):
        return "the column sums of ", x
    return "the sum of the entries of ", x


# ---- intermediates ---------------------------------------------------------------------------
def _user_vars(y: Node) -> list[Node]:
    return [n for n in topo(y) if n.op is core.VAR and n.params[2] not in ("upstream", "symbol")]


def _is_const(n: Node) -> bool:
    return not any(m.op is core.VAR for m in topo(n))


def _nonlinear(n: Node) -> bool:
    """One non-constant argument, and a local derivative that depends on it (tanh, x∘², ...)."""
    live = [j for j, a in enumerate(n.args) if not _is_const(a)]
    if n.ndim == 0 or len(live) != 1 or n.op.vjp is None or n.op is core.NAME:
        return False
    (j,) = live
    needs = tuple(i == j for i in range(len(n.args)))
    u = core.variable("u(jvp)", *n.shape, kind="symbol")
    ct = n.op.vjp(n, u, needs)[j]
    return ct is not None and _depends(ct, {n.args[j], n})


def _mixes(parent: Node, j: int) -> bool:
    """Does parent combine its j-th argument with other values (a matmul, a nonlinearity),
    rather than pass its gradient through (sums, transposes, + and -)?"""
    if parent.op.vjp is None:
        return False
    needs = tuple(i == j for i in range(len(parent.args)))
    u = core.variable("u(jvp)", *parent.shape, kind="symbol")
    ct = parent.op.vjp(parent, u, needs)[j]
    return ct is not None and any(m.op is core.VAR and m is not u for m in topo(ct))


def _has_product(n: Node) -> bool:
    """Is there a matrix product inside n (not looking into named nodes)?"""
    stack, seen = [n], set()
    while stack:
        m = stack.pop()
        if m in seen or m.op is core.NAME:
            continue
        seen.add(m)
        if m.op in (linalg.MATMUL, linalg.OUTER) and not any(_is_const(a) for a in m.args):
            return True
        stack.extend(m.args)
    return False


def _is_leafish(n: Node) -> bool:
    while n.op is shape.T or n.op is shape.RESHAPE or n.op is core.NAME:
        n = n.args[0]
    return not n.args


# ---- layout -----------------------------------------------------------------------------------
_LINE = 64  # characters of Unicode math that fit beside a note on an A4 line


def _break(terms: Sequence[Node], P: Printer, U: Printer) -> list[str]:
    """A sum as lines of at most _LINE characters; later lines start with + or -."""
    lines: list[str] = []
    cur, width = "", 0
    for i, t in enumerate(terms):
        sign, body = _signed(t)
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


# ---- the derivation ----------------------------------------------------------------------------
class Derivation:
    """A step-by-step derivation of gradients: .result, .steps, .latex(), .markdown(), .save().

    Build one with sg.derive(y, wrt). Every step is an equation between expressions; verify()
    evaluates them at random sizes and values and checks that consecutive steps agree.
    """

    def __init__(self, y: Node, wrt: list[Node], steps: list[Step], result: dict[Node, Node],
                 options: DerivationOptions, symbols: dict[Node, tuple[str, str]],
                 checks: list[_Check], tangents: dict[Node, Node], upstream: Node | None,
                 mode: str, labels: dict[Node, Node]) -> None:
        self.y = y
        self.wrt = list(wrt)
        self.steps = list(steps)
        self.result = dict(result)
        self.options = options
        self.mode = mode  # "differential" or "backprop"
        self._symbols = symbols
        self._checks = checks
        self._tangents = tangents
        self._upstream = upstream
        self._labels = labels  # gradient-line symbol -> its variable

    # ---- text -------------------------------------------------------------------------------
    def _printer(self, latex: bool, small: bool = False, marked: bool = False) -> _Printer:
        st = self.options.style
        if not latex:
            st = replace(UNICODE, ones=_unicode_token(st.ones), loss=_unicode_token(st.loss),
                         size_subscripts=st.size_subscripts, upstream=st.upstream)
        return _Printer(replace(st, mark_broadcasts=marked), self._symbols, small)

    def _note(self, parts: Sequence[Part], P: _Printer) -> str:
        out = []
        for p in parts:
            if isinstance(p, Node):
                out.append(P(p))
            elif P.is_latex:
                out.append(rf"\text{{{_text(p)}}}")
            else:
                out.append(p)
        return " ".join(out) if P.is_latex else "".join(out)

    def _prose(self, parts: Sequence[Part], P: _Printer, math: str = "$") -> str:
        return "".join(f"{math}{P(p)}{math}" if isinstance(p, Node) else p for p in parts)

    def _rows(self, latex: bool) -> list[tuple[str, str, list[str], str]]:
        """(prose, lhs, rhs lines, note) rows; the first row of a `given` step marks broadcasts,
        and the chain rule's lines use small fractions. A long sum breaks into lines; each
        line after the first starts with its + or -."""
        rows = []
        P = self._printer(latex)
        U = self._printer(False)
        marked, small = self._printer(latex, marked=True), self._printer(latex, small=True)
        for step in self.steps:
            prose = self._prose(step.prose, P, "$" if P.is_latex else "") if step.prose else ""
            for i, eq in enumerate(step.equations):
                pr = marked if step.kind == "given" and i == 0 else (
                    small if step.kind == "chain" else P)
                lhs = P(eq.lhs) if eq.lhs is not None else ""
                note = self._note(eq.note, P) if self.options.notes and eq.note else ""
                if eq.terms and len(U(eq.rhs)) > _LINE:
                    rhs = _break(eq.terms, pr, U)
                else:
                    rhs = [pr(eq.rhs)]
                rows.append((prose if i == 0 else "", lhs, rhs, note))
        return rows

    def lines(self) -> list[str]:
        """The equations as LaTeX, one `lhs = rhs` per line (continuations start with '=')."""
        return [(f"{lhs} = " if lhs else "= ") + " ".join(rhs)
                for _, lhs, rhs, _ in self._rows(True)]

    def _align_body(self) -> str:
        out: list[str] = []
        for prose, lhs, rhs, note in self._rows(True):
            if prose and out:
                out[-1] += r" \\"
                out.append(rf"\intertext{{{prose}}}")
            if out and not out[-1].endswith(r"\\") and not out[-1].startswith(r"\intertext"):
                out[-1] += r" \\"
            lines = _latex_lines(lhs, rhs, note)
            out += [ln + r" \\" for ln in lines[:-1]] + lines[-1:]
        return "\n".join(out)

    def latex(self, document: bool = False) -> str:
        """An amsmath align* block; document=True: a standalone .tex file that compiles."""
        body = "\\begin{align*}\n" + self._align_body() + "\n\\end{align*}"
        if not document:
            return body
        return "\n".join([
            r"\documentclass[11pt]{article}",
            r"\usepackage[a4paper,margin=2cm]{geometry}",
            *self.options.packages(),
            r"\allowdisplaybreaks",
            r"\pagestyle{empty}",
            r"\begin{document}",
            body,
            r"\end{document}",
            "",
        ])

    def _tight_document(self) -> str:
        """The derivation on a page cut to its size (for PNG): a box measured, then shipped."""
        body = "\\begin{align*}\n" + self._align_body() + "\n\\end{align*}"
        return "\n".join([
            r"\documentclass[11pt]{article}",
            r"\usepackage[a4paper,margin=2cm]{geometry}",
            *self.options.packages(),
            r"\pagestyle{empty}",
            r"\newsavebox{\symgradbox}",
            r"\begin{document}",
            r"\begin{lrbox}{\symgradbox}\begin{minipage}{\textwidth}",
            body,
            r"\end{minipage}\end{lrbox}",
            r"\pdfpagewidth=\dimexpr\wd\symgradbox+24pt\relax",
            r"\pdfpageheight=\dimexpr\ht\symgradbox+\dp\symgradbox+24pt\relax",
            r"\hoffset=-1in \voffset=-1in \oddsidemargin=12pt \evensidemargin=12pt",
            r"\topmargin=0pt \headheight=0pt \headsep=0pt \topskip=0pt",
            r"\noindent\usebox{\symgradbox}",
            r"\end{document}",
            "",
        ])

    def markdown(self) -> str:
        """$$ blocks (aligned) for KaTeX and MathJax, with the prose between them."""
        blocks: list[str] = []
        rows: list[str] = []

        def flush() -> None:
            if rows:
                blocks.append("$$\n\\begin{aligned}\n" + " \\\\\n".join(rows)
                              + "\n\\end{aligned}\n$$")
                rows.clear()

        for prose, lhs, rhs, note in self._rows(True):
            if prose:
                flush()
                blocks.append(prose)
            rows.extend(_latex_lines(lhs, rhs, note))
        flush()
        return "\n\n".join(blocks) + "\n"

    def _repr_latex_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        rows = self._rows(False)
        width = max((len(lhs) for _, lhs, _, _ in rows), default=0)
        rhs_w = min(_LINE, max((len(r[0]) for _, _, r, _ in rows), default=0))
        out = []
        for prose, lhs, rhs, note in rows:
            if prose:
                out.append(prose)
            line = f"{lhs:>{width}} = {rhs[0]}"
            if note:
                line = f"{line:<{width + 3 + rhs_w}}   {note}"
            out.append(line.rstrip())
            out += [" " * (width + 5) + r for r in rhs[1:]]
        return "\n".join(out)

    def __repr__(self) -> str:
        names = ", ".join(str(v) for v in self.wrt)
        return f"<Derivation of {self.y} w.r.t. {names}: {len(self.lines())} lines>"

    # ---- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, dpi: int = 200) -> Path:
        """Write .tex, .pdf (pdflatex) or .png (pdflatex + pdftoppm); returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if not isinstance(dpi, int) or isinstance(dpi, bool) or not 10 <= dpi <= 2400:
            raise SymgradError(f"dpi must be an integer from 10 to 2400, got {dpi!r}")
        if suffix == ".tex":
            path.write_text(self.latex(document=True))
            return path
        if suffix == ".md":
            path.write_text(self.markdown())
            return path
        if suffix not in (".pdf", ".png"):
            raise SymgradError(f"cannot save a derivation as {path.name!r}: use .pdf, .png, "
                               ".tex or .md")
        tex = self.latex(document=True) if suffix == ".pdf" else self._tight_document()
        with tempfile.TemporaryDirectory(prefix="symgrad-") as tmp:
            pdf = compile_latex(tex, Path(tmp))
            if suffix == ".pdf":
                shutil.copyfile(pdf, path)
            else:
                _require("pdftoppm", "poppler-utils")
                stem = Path(tmp) / "page"
                _run(["pdftoppm", "-png", "-r", str(int(dpi)), "-singlefile", str(pdf),
                      str(stem)], Path(tmp), "pdftoppm")
                shutil.copyfile(stem.with_suffix(".png"), path)
        return path

    # ---- numbers ----------------------------------------------------------------------------
    def verify(self, seed: int = 0, sizes: dict | None = None) -> VerifyReport:
        """Evaluate every step at random sizes and values: consecutive steps must agree, the
        differential must match finite differences, and each gradient the engine's backprop."""
        rng = np.random.default_rng(seed)
        seeds = [self.y, *self.wrt, *self._tangents.values()] + (
            [self._upstream] if self._upstream is not None else [])
        every = seeds + [c.a for c in self._checks] + [
            e.rhs for s in self.steps for e in s.equations]
        if sizes is None:
            sizes = random_sizes(every, rng)
        else:
            sizes = {sympy.Symbol(str(k), positive=True, integer=True) if isinstance(k, str)
                     else k: int(v) for k, v in sizes.items()}
        for domain in ("any", "positive"):
            env = random_env(seeds, sizes, rng, domain)
            for v in self._tangents.values():  # directions: any sign, symmetric if S is
                env[v] = rng.normal(size=env[v].shape)
                if core.is_symmetric(v):
                    env[v] = (env[v] + env[v].T) / 2
            if np.all(np.isfinite(evaluate(self.y, env, sizes))):
                break
        else:
            raise EvaluationError(f"could not find a point where {self.y} is finite")
        errors: dict[str, float] = {}
        failed: list[str] = []

        def compare(label: str, a, b, tol: float) -> None:
            a, b = np.asarray(a, float), np.asarray(b, float)
            scale = max(1.0, float(np.max(np.abs(a), initial=0.0)),
                        float(np.max(np.abs(b), initial=0.0)))
            err = float(np.max(np.abs(a - b), initial=0.0)) / scale
            if a.shape != b.shape or not np.isfinite(err):
                err = float("inf")
            errors[label] = err
            if not err <= tol:
                failed.append(label)

        # The steps themselves: continuation lines equal the line above; the differential
        # equals finite differences of y; each gradient line equals the result, and read
        # against the tangents, sum_v <dL/dv, dv> gives back dL.
        k, last = 0, None
        grads: dict[Node, np.ndarray] = {}
        for step in self.steps:
            first = None
            for i, eq in enumerate(step.equations):
                k += 1
                value = evaluate(eq.rhs, env, sizes)
                if eq.lhs is not None:
                    first = value
                    if eq.lhs.op is core.VAR and eq.lhs not in env:
                        env[eq.lhs] = value
                else:
                    compare(f"line {k} ({step.kind}) equals the line before", value, first,
                            1e-8)
                if step.kind == "differential" and i == 0:
                    compare(f"line {k}: the differential equals finite differences", value,
                            self._fd(env, sizes), 1e-5)
                v = self._labels.get(eq.lhs)
                if v is not None:
                    grads[v] = value
                    compare(f"line {k}: d/d{v.params[0]} equals the result", value,
                            evaluate(self.result[v], env, sizes), 1e-8)
                if step.kind != "gradients":
                    last = value
        if self._tangents and grads and last is not None:
            read = sum(float(np.sum(grads[v] * env[dv])) for v, dv in self._tangents.items()
                       if v in grads)
            compare("the gradients read off give back dL", read, last, 1e-8)
        for c in self._checks:
            compare(c.label, evaluate(c.a, env, sizes), evaluate(c.b, env, sizes), c.tol)
        return VerifyReport(not failed, {str(s): v for s, v in sizes.items()}, errors, failed)

    def _fd(self, env: dict, sizes: dict) -> np.ndarray:
        """Central differences of y along the tangent directions."""
        h = 1e-6
        plus, minus = dict(env), dict(env)
        for v, dv in self._tangents.items():
            plus[v] = env[v] + h * env[dv]
            minus[v] = env[v] - h * env[dv]
        return (evaluate(self.y, plus, sizes) - evaluate(self.y, minus, sizes)) / (2 * h)


# ---- building -----------------------------------------------------------------------------------
class _Builder:
    def __init__(self, y: Node, wrt: list[Node], opts: DerivationOptions) -> None:
        self.y, self.wrt, self.opts = y, wrt, opts
        self.expr = core.unname(y)
        self.symbols: dict[Node, tuple[str, str]] = {}
        self.checks: list[_Check] = []
        self.base = Printer(opts.style)
        self.base_u = Printer(replace(UNICODE, loss=_unicode_token(opts.style.loss)))
        self.loss = opts.style.loss
        self.loss_u = _unicode_token(opts.style.loss)
        if y.ndim == 0 and y.op is core.NAME:  # a named objective: its gradients are ∂E/∂W
            self.loss, self.loss_u = self.base.name(y.params[0]), self.base_u.name(y.params[0])
            self.opts = replace(opts, style=replace(opts.style, loss=self.loss))
            self.base = Printer(self.opts.style)
        self.upstream = core.upstream_of(y) if y.ndim else None
        self.labels: dict[Node, str] = {}  # intermediate -> its name
        self.seed = self.upstream if self.upstream is not None else core.number(1)

    # ---- symbols --------------------------------------------------------------------------
    def symbol(self, key: str, shape_, tex: str, text: str, kind: str = "symbol") -> Node:
        v = core.variable(key, *shape_, kind=kind)
        self.symbols[v] = (tex, text)
        return v

    def printed(self, v: Node) -> tuple[str, str]:
        return self.base(v), self.base_u(v)

    def y_symbol(self) -> Node:
        if self.y.ndim == 0:
            return self.symbol("loss(" + self.loss + ")", (), self.loss, self.loss_u)
        label = self.y.params[0] if self.y.op is core.NAME else "f"
        return self.symbol("out(" + label + ")", self.y.shape, self.base.name(label),
                           self.base_u.name(label))

    def differential(self, of: Node, tex: str, text: str) -> Node:
        d = self.opts.differential
        kind = "symmetric" if core.is_symmetric(of) else "symbol"
        return self.symbol("d(" + tex + ")", of.shape, f"{d}{tex}",
                           f"{_unicode_token(d)}{text}", kind=kind)

    def grad_label(self, v: Node) -> Node:
        return core.variable("dL/d" + v.params[0], *v.shape, kind="upstream")

    # ---- top level -------------------------------------------------------------------------
    def build(self) -> Derivation:
        self.check_names()
        inter = self.intermediates()
        # The result is sg.grad's (of y with its layers named, when they are), so derivations
        # and sg.grad print the same gradients.
        named = self.named_y(inter) if inter else self.y
        self.result = result = dict(zip(self.wrt, grad(named, self.wrt, upstream=self.seed)))
        if inter:
            steps, tangents, mode = self.backprop(inter), {}, "backprop"
        else:
            steps, tangents, mode = *self.differentials(), "differential"
        # ... and checked against plain (unsimplified) backprop
        raw = backprop(self.y, self.seed, self.wrt)
        for v, r in zip(self.wrt, raw):
            self.checks.append(_Check(f"d/d{v.params[0]}: result equals plain backprop",
                                      result[v], r))
        self.check_symbols()
        labels = {self.grad_label(v): v for v in self.wrt}
        return Derivation(self.y, self.wrt, steps, result, self.opts, self.symbols,
                          self.checks, tangents, self.upstream, mode, labels)

    def named_y(self, inter: list[Node]) -> Node:
        """y with every intermediate wrapped in sg.name (the user's names are already)."""
        memo: dict[Node, Node] = {}
        for n in topo(self.y):
            args = tuple(memo[a] for a in n.args)
            new = n if args == n.args else Node(n.op, args, n.params)
            if n in self.labels and n.op is not core.NAME:
                new = core.name(self.labels[n], new)
            memo[n] = new
        return memo[self.y]

    def check_names(self) -> None:
        ones = self.opts.style.ones
        out = self.base.name(self.y.params[0] if self.y.op is core.NAME else "f")
        for v in _user_vars(self.y):
            if self.y.ndim and self.base(v) == out:
                raise SymgradError(
                    f"variable {v.params[0]} prints as {out!r}, the name of the expression "
                    "derived; name the expression otherwise: sg.name('F', expr)")
            if self.base(v) == ones or self.base(v) == self.loss:
                what, opt = (("ones symbol", "ones") if self.base(v) == ones
                             else ("loss name", "loss"))
                raise SymgradError(
                    f"variable {v.params[0]} prints as {self.base(v)!r}, the {what} of this "
                    f"derivation; rename it or pass {opt}=... to derive()"
                )

    def check_symbols(self) -> None:
        """A variable must not print like a symbol of the derivation (a variable named dW)."""
        # Unicode too: \mathit{dW} and the differential dW look alike when typeset.
        mine = {s for key, pair in self.symbols.items()
                if not key.params[0].startswith("generic(") for s in pair}
        for v in _user_vars(self.y):
            s = self.base(v)
            if s in mine or self.base_u(v) in mine:
                raise SymgradError(
                    f"variable {v.params[0]} prints as {s!r}, like a symbol of the derivation "
                    "(a differential, a cotangent or a named intermediate); rename it"
                )

    # ---- one layer: differentials -------------------------------------------------------------
    def differentials(self) -> tuple[list[Step], dict[Node, Node]]:
        y, expr, wrt = self.y, self.expr, self.wrt
        ysym = self.y_symbol()
        ytex, ytext = self.symbols[ysym]
        dy = self.differential(ysym, ytex, ytext)
        tangents = {v: self.differential(v, *self.printed(v)) for v in wrt}
        steps = []
        given = [Equation(ysym, expr, ("as given",))]
        exp = explicit(expr)
        marked = Printer(replace(self.opts.style, mark_broadcasts=True))
        if marked(expr) != self.base(exp):
            given.append(Equation(None, exp, ("the broadcast made explicit",)))
        if exp is not expr:
            self.checks.append(_Check("the explicit form equals the expression", exp, expr))
        steps.append(Step("given", tuple(given)))
        terms = [tangent(expr, {v: tangents[v]}) for v in wrt]
        live = [(v, t) for v, t in zip(wrt, terms) if not core.is_zero(t)]
        df_eq = _sum_eq(dy, [t for _, t in live], y.shape, ("the differential",))
        df = df_eq.rhs
        steps.append(Step("differential", (df_eq,)))
        gmap = self.result
        # ⟨g, dV⟩ read off: tr((G Xᵀ)ᵀ dW) shows the gradient; (Aᵀ)ᵀ is said A.
        reads = [_inner(tangents[v], gmap[v], tidy=gmap[v].op is shape.T) for v, _ in live]
        if y.ndim:  # the chain rule against the upstream gradient
            dL = self.symbol("d(" + self.loss + ")", (), f"{self.opts.differential}{self.loss}",
                             f"{_unicode_token(self.opts.differential)}{self.loss_u}")
            chain = [Equation(dL, _inner(dy, self.upstream), ("the chain rule",))]
            split = [_inner(t, self.upstream) for _, t in live]
            if len(split) > 1:
                chain.append(_sum_eq(None, split, (), ("one term per variable",)))
            chain.append(_sum_eq(None, reads, (), self.cyclic_note(live)))
            steps.append(Step("chain", tuple(chain)))
        else:
            read = _sum_eq(None, reads, (), self.cyclic_note(live))
            if self.base(read.rhs) != self.base(df):
                steps[-1] = Step("differential", (df_eq, read))
        steps.append(self.gradient_step(gmap))
        return steps, tangents

    def cyclic_note(self, live) -> tuple[Part, ...]:
        if any(v.ndim == 2 for v, _ in live):
            cyc = self.symbol("generic(cyclic)", (), r"\operatorname{tr}(A B) = "
                              r"\operatorname{tr}(B A)", "tr(A B) = tr(B A)")
            return ("by ", cyc)
        return ("a scalar is its own transpose",)

    def gradient_step(self, gmap: dict[Node, Node]) -> Step:
        eqs = []
        for v in self.wrt:
            words = _sum_words(gmap[v])
            note: tuple[Part, ...] = (words[0], words[1]) if words else ()
            eqs.append(Equation(self.grad_label(v), gmap[v], note))
        layout = ("Gradients have the shape of the variable (denominator layout):",)
        return Step("gradients", tuple(eqs), layout)

    # ---- deep: backprop through named intermediates ------------------------------------------
    def intermediates(self) -> list[Node]:
        """User-named nodes, plus (for deep expressions) the layers Z₁, H₁, ... in forward
        order. Shared non-trivial subexpressions are named too, so nothing prints twice."""
        order = topo(self.y)
        root = self.y
        named = [n for n in order if n.op is core.NAME and n is not root]
        if not self.opts.name_intermediates:
            return named
        depth: dict[Node, int] = {}
        parents: dict[Node, list[tuple[Node, int]]] = {}
        for n in order:
            depth[n] = max((depth[a] for a in n.args), default=0) + (1 if _nonlinear(n) else 0)
            for j, a in enumerate(n.args):
                parents.setdefault(a, []).append((n, j))
        inner_ids = {n.args[0] for n in named}
        auto: dict[Node, str] = {}
        body = core.unname(root)
        wanted = set(self.wrt)
        # Deep: two nonlinear layers, or one whose input holds several of the variables (its
        # derivative would be printed once per variable).
        layered = any(_nonlinear(n) and sum(m in wanted for m in topo(n)) >= 2 for n in order)
        if depth[root] >= 2 or named or layered:
            for n in reversed(order):  # consumers first: whether n is named decides its arg
                if not _nonlinear(n):
                    continue
                (j,) = [j for j, a in enumerate(n.args) if not _is_const(a)]
                a = n.args[j]
                # H = tanh(Z) is named when something multiplies it (not when it is summed)
                if n is not body and n not in inner_ids and n.op is not core.NAME and any(
                        _mixes(p, k) for p, k in parents.get(n, [])):
                    auto.setdefault(n, "H")
                # Z is named when its H is, or when it holds a layer's product (X W + b)
                if (a.op is not core.NAME and not _is_leafish(a) and a.ndim
                        and a not in inner_ids and (n in auto or n in inner_ids
                                                    or _has_product(a))):
                    auto.setdefault(a, "H" if _nonlinear(a) else "Z")
        for n in order:  # shared subexpressions, named once
            uses = len(parents.get(n, []))
            if (uses > 1 and n.ndim and not _is_leafish(n) and n.op is not core.NAME
                    and n not in inner_ids and n is not body and n.size > 3):
                auto.setdefault(n, "H" if _nonlinear(n) else "Z")
        if not auto and not named:
            return []
        taken = {self.base.name(v.params[0]) for v in _user_vars(self.y)}
        taken |= {self.base.name(n.params[0]) for n in named}
        self.labels: dict[Node, str] = {n: n.params[0] for n in named}
        counters = {"Z": 0, "H": 0}
        for n in order:
            letter = auto.get(n)
            if letter is None:
                continue
            while True:
                counters[letter] += 1
                label = f"{letter}{counters[letter]}"
                if self.base.name(label) not in taken:
                    break
            taken.add(self.base.name(label))
            self.labels[n] = label
        return [n for n in order if n in self.labels]

    def backprop(self, inter: list[Node]) -> list[Step]:
        y, wrt = self.y, self.wrt
        leaves = {n: self.symbol("z(" + self.labels[n] + ")", n.shape,
                                 self.base.name(self.labels[n]), self.base_u.name(self.labels[n]))
                  for n in inter}
        # A named node's definition is its argument; an auto-named one is the node itself.
        defs: dict[Node, Node] = {}
        for n in inter:
            body = n.args[0] if n.op is core.NAME else n
            defs[n] = substitute(body, {k: v for k, v in leaves.items() if k is not n})
        ysym = self.y_symbol()
        root_def = substitute(self.expr, leaves)
        forward = [Equation(leaves[n], defs[n]) for n in inter]
        forward.append(Equation(ysym, root_def))
        forward[0] = replace(forward[0], note=("forward pass",))
        for n in inter:
            self.checks.append(_Check(f"{self.labels[n]}: its line equals the expression",
                                      leaves[n], n))
        self.checks.append(_Check("the last forward line equals the expression", ysym, y))
        # Cotangents, last layer first: Z̄ = sum over the consumers C of vjp(C, Z, C̄).
        segs = [(leaves[n], defs[n]) for n in inter] + [(ysym, root_def)]
        wanted = set(wrt)
        live = {ysym}
        for leaf, d in segs:
            if _depends(d, wanted | live):
                live.add(leaf)
        back_sub = {defs[n]: leaves[n] for n in inter}
        bars: dict[Node, Node] = {ysym: self.seed}
        backward = []
        for n in reversed(inter):
            leaf = leaves[n]
            if leaf not in live:
                continue
            parts = [backprop(d, bars[s], [leaf])[0] for s, d in segs
                     if s in bars and leaf in topo(d)]
            raw = _total(parts, leaf.shape)
            g = simplify(substitute(raw, back_sub))
            tex, text = self.symbols[leaf]
            bar = self.symbol("bar(" + self.labels[n] + ")", leaf.shape,
                              _notation(self.opts.cotangent, tex, self.loss, False),
                              _notation(self.opts.cotangent, text, self.loss_u, True))
            bars[leaf] = bar
            backward.append(Equation(bar, g))
            self.checks.append(_Check(f"{self.labels[n]}: cotangent line equals plain backprop",
                                      g, raw))
        steps = [Step("forward", tuple(forward))]
        gmap: dict[Node, Node] = {}
        for v in wrt:
            parts = [backprop(d, bars[s], [v])[0] for s, d in segs if s in bars and v in topo(d)]
            gmap[v] = simplify(substitute(_total(parts, v.shape), back_sub))
        if backward:
            z = self.symbol("generic(Z)", (), "Z", "Z")
            cot = self.opts.cotangent
            zbar = self.symbol(
                "generic(bar Z)", (),
                _notation(cot, "Z", self.loss, False) + " = "
                + _notation("frac", "Z", self.loss, False),
                _notation(cot, "Z", self.loss_u, True) + " = "
                + _notation("frac", "Z", self.loss_u, True))
            prose: tuple[Part, ...] = (
                ("Backward pass, last layer first: ", zbar, " has the shape of ", z,
                 " (gradients have the shape of the variable):")
                if cot != "frac" else
                ("Backward pass, last layer first (gradients have the shape of the "
                 "variable):",))
            steps.append(Step("backward", tuple(backward), prose))
        grad_step = self.gradient_step(gmap)
        prose = ("Gradients:",) if backward else grad_step.prose
        steps.append(replace(grad_step, prose=prose))
        return steps


# ---- pdflatex ---------------------------------------------------------------------------------
_INSTALL = {
    "pdflatex": "texlive-latex-base texlive-latex-recommended",
    "pdftoppm": "poppler-utils",
}


def _require(tool: str, package: str | None = None) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pkg = package or _INSTALL.get(tool, tool)
        raise ToolError(f"{tool} is not installed; it is needed to render derivations "
                        f"(Debian/Ubuntu: apt-get install {pkg})")
    return exe


def _run(cmd: list[str], cwd: Path, what: str, timeout: float = 120) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what} did not finish in {timeout:g} s") from None
    if proc.returncode != 0:
        raise ToolError(f"{what} failed (exit {proc.returncode}): "
                        f"{(proc.stderr or proc.stdout)[-2000:]}")


def compile_latex(tex: str, workdir: Path, name: str = "derivation") -> Path:
    """Compile a standalone document with pdflatex -halt-on-error; returns the PDF's path.
    A LaTeX error raises ToolError quoting the log's error lines."""
    exe = _require("pdflatex")
    src = workdir / f"{name}.tex"
    src.write_text(tex)
    cmd = [exe, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", src.name]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolError("pdflatex did not finish in 120 s") from None
    pdf = workdir / f"{name}.pdf"
    if proc.returncode != 0 or not pdf.exists():
        log = (workdir / f"{name}.log")
        text = log.read_text(errors="replace") if log.exists() else proc.stdout
        errs = [ln for ln in text.splitlines() if ln.startswith("!") or ln.startswith("l.")]
        raise ToolError("pdflatex failed: " + (" | ".join(errs[:6]) or text[-1500:]))
    return pdf


def pdf_pages(pdf: Path) -> int:
    """The page count of a PDF: its page objects, looked for in compressed streams too."""
    data = Path(pdf).read_bytes()
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", c)) for c in chunks)


# ---- the public entry point ---------------------------------------------------------------------
def derive(y: Node | float, wrt: Node | Sequence[Node] | None = None,
           options: DerivationOptions | None = None, order: int = 1, **kw) -> Derivation:
    """A step-by-step derivation of the gradients of y w.r.t. wrt (default: every variable).

    y is a scalar objective, or a non-scalar f back-propagated against a symbolic upstream
    gradient ∂L/∂f. order=2: the Hessian of a scalar y w.r.t. one variable (or sg.vec(X)),
    through the second differential. Keywords are DerivationOptions fields (differential,
    cotangent, notes, name_intermediates) or Style fields (transpose, ones, bold, loss,
    upstream, size_subscripts).
    """
    y = core.as_node(y)
    opts = DerivationOptions.make(options, **kw)
    if order == 2:
        return _hessian_derivation(y, wrt, opts)
    if order != 1:
        raise DifferentiationError(f"derive() takes order=1 (gradients) or 2 (a Hessian), "
                                   f"not {order!r}")
    if wrt is None:
        xs = _user_vars(y)
        if not xs:
            raise DifferentiationError(f"{y} has no variables to differentiate with respect to")
    else:
        many = isinstance(wrt, (list, tuple))
        xs = [_check_wrt(v) for v in (wrt if many else [wrt])]
        if not xs:
            raise DifferentiationError("derive() needs at least one variable in wrt")
        seen: set[Node] = set()
        for v in xs:
            if v in seen:
                raise DifferentiationError(f"{v.params[0]} is listed twice in wrt")
            seen.add(v)
    for v in xs:
        if v.params[2] == "symbol":
            raise DifferentiationError(f"{v.params[0]} is a symbol of a derivation, "
                                       "not a variable")
    return _Builder(y, xs, opts).build()


def _hessian_derivation(y: Node, wrt, opts: DerivationOptions) -> Derivation:
    """The second-order derivation: gradient, dL, d²L = dxᵀ H dx, the Hessian read off.

    The steps come from symgrad.jacobian.hessian_steps; verify() checks dL against finite
    differences and the quadratic form against the second differential it continues."""
    from .jacobian import _wrt, hessian_steps

    if isinstance(wrt, (list, tuple)):
        if len(wrt) != 1:
            raise DifferentiationError("derive(order=2) takes one variable (or sg.vec(X))")
        wrt = wrt[0]
    if wrt is None or y.ndim:
        raise DifferentiationError("derive(order=2) needs a scalar objective and one variable")
    var, _ = _wrt(wrt)
    b = _Builder(y, [var], opts)
    raw = hessian_steps(y, wrt)
    dx = next(v for v in topo([s.rhs for s in raw]) if v.op is core.VAR
              and v.params[0] == "d" + var.params[0] and v is not var)
    # Prose in plain words: it goes into \intertext, where pdflatex takes no Unicode math.
    kinds = {"dL": ("differential", "The first differential, the gradient against dx:"),
             "d²L": ("second", "The second differential, the differential of the gradient "
                               "along dx (linear in dx):")}
    steps: list[Step] = []
    for i, s in enumerate(raw):
        cont = i and raw[i - 1].lhs_text == s.lhs_text  # dxᵀ H dx continues d²L
        lhs = None if cont else b.symbol(f"hess({s.lhs_text})", s.rhs.shape, s.lhs, s.lhs_text)
        eq = Equation(lhs, s.rhs, ("read as a quadratic form",) if cont else ())
        if cont:
            steps[-1] = replace(steps[-1], equations=steps[-1].equations + (eq,))
            continue
        kind, prose = kinds.get(s.lhs_text, ("hessian", "The Hessian, read off the quadratic "
                                                        "form (symmetric):"))
        if i == 0:
            kind, prose = "gradient", "The gradient, by reverse mode:"
        steps.append(Step(kind, (eq,), (prose,)))
    hess = raw[-1].rhs
    b.symbols[dx] = b.printed(dx)
    return Derivation(y, [var], steps, {var: hess}, b.opts, b.symbols, [], {var: dx}, None,
                      "hessian", {})
