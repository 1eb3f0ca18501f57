"""One precedence-aware printer, two styles: paper LaTeX and Unicode math.

Each op prints itself (Op.print) through the small vocabulary of this Printer; the style
decides the tokens. Broadcast operands print in explicit form (b 1ᵀ, 1 cᵀ) and sums as
products with ones vectors (G 1, Gᵀ 1), so printed results say exactly what they compute.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import overload

import sympy

from .errors import InvalidNameError, UnsupportedError
from .names import latex_name, unicode_name
from .node import Node, describe, install_printers, topo
from .op import ADD, ATOM, FRAC, HAD, NEG, POSTFIX, PROD
from .ops.core import as_node
from .ops.shape import explicit_broadcast
from .shapes import broadcast_shapes
from .tensor_print import index_notation, needs_index_notation

SUB = dict(zip("0123456789aehijklmnoprstuvx+-()", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋₍₎"))
# A variable printed like a function name, as the last factor of a product.
_FUNCTION_LIKE = {
    True: re.compile(r"\\sigma(_\{[^{}]*\})?(\^\{[^{}]*\})?$"),
    False: re.compile(r"σ[^\s()·]*$"),
}
SUP = dict(zip("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"))


@dataclass(frozen=True)
class Style:
    """How things print; one small frozen object rather than flags threaded through code."""

    latex: bool = True
    transpose: str = r"^{\top}"
    ones: str = r"\mathbf{1}"
    size_subscripts: bool = True  # \mathbf{1}_{n} rather than \mathbf{1}
    bold: bool = False  # \mathbf{W} for non-scalar variables
    loss: str = "L"
    upstream: str = "frac"  # frac: \frac{\partial L}{\partial f}; bar: \bar{f}; delta: \delta_{f}
    mark_broadcasts: bool = False  # W X ⊕ b: broadcast operands of + and - as given, circled op


LATEX = Style()
UNICODE = Style(latex=False, transpose="ᵀ", ones="1")


class Printer:
    def __init__(self, style: Style = LATEX) -> None:
        self.style = style
        self.is_latex = style.latex
        self.memo: dict[Node, tuple[str, int]] = {}
        self.taken: set[str] = set()  # how the variables in sight print

    # ---- driving -----------------------------------------------------------------------
    def __call__(self, root: Node) -> str:
        # Children first, so the recursion below stays shallow; a named node prints as its
        # name, so what it names is not formatted at all.
        nodes = topo(root, leaf=lambda m: m.op.name == "name")
        # A function spelled like a variable in sight (\sigma next to a scalar sigma) would
        # have two readings: spelled() writes its name out instead (\operatorname{sigmoid}).
        self.taken |= {self.name(m.params.name) for m in nodes if m.op.name == "var"}
        if any(needs_index_notation(m) for m in nodes):  # beyond matrices: index notation
            return index_notation(root, self)
        for n in nodes:
            self.fmt(n)
        return self.fmt(root)[0]

    def fmt(self, n: Node) -> tuple[str, int]:
        hit = self.memo.get(n)
        if hit is None:
            if n.op.name not in ("var", "name") and (
                    n.ndim > 2 or any(a.ndim > 2 for a in n.args)):
                raise UnsupportedError(f"{describe(n)} has no matrix notation; print the "
                                       f"whole expression (index notation)")
            hit = n.op.print(n, self)
            self.memo[n] = hit
        return hit

    def arg(self, n: Node, min_prec: int) -> str:
        s, p = self.fmt(n)
        return self.paren(s) if p < min_prec else s

    def operand(self, n: Node, out_shape, min_prec: int, markable: bool = False) -> str:
        """An operand of an elementwise op; a broadcast non-scalar prints in explicit form
        (or as given, when it is an operand of + or - and the style marks broadcasts)."""
        if n.ndim == 0 or n.shape == out_shape or (markable and self.style.mark_broadcasts):
            return self.arg(n, min_prec)
        if all(s == 1 for s in n.shape):  # a (1,) or (1, 1) operand broadcasts as a scalar
            return self.arg(n, min_prec)
        return self.arg(explicit_broadcast(n, out_shape), min_prec)

    # ---- vocabulary used by the ops' print rules -------------------------------------------
    def sum_sign(self, n: Node, name: str) -> str:
        """The + or - of n; ⊕ or ⊖ when broadcasts are marked and a non-scalar one broadcasts."""
        if self.style.mark_broadcasts and any(a.ndim and a.shape != n.shape for a in n.args):
            circled = {"add": (r" \oplus ", " ⊕ "), "sub": (r" \ominus ", " ⊖ ")}[name]
            return circled[0] if self.is_latex else circled[1]
        return " + " if name == "add" else " - "

    def paren(self, s: str) -> str:
        if self.is_latex and ("\\frac" in s or "\\sum" in s):
            return rf"\left({s}\right)"
        return f"({s})"

    def pick(self, latex: str, uni: str) -> str:
        """The token of this printer's style."""
        return latex if self.is_latex else uni

    def spelled(self, n: Node, label: str = "") -> str:
        """f(x) for an op with a function spelling (Op.spelling), `label` after the name."""
        sp = n.op.spelling
        name = sp.latex if self.is_latex else sp.unicode
        if self.is_latex and name in self.taken:
            name = rf"\operatorname{{{n.op.name}}}"
        return self.func(name + label, self.arg(n.args[0], 0))

    def juxt(self, a: str, b: str) -> str:
        if _FUNCTION_LIKE[self.is_latex].search(a):
            # A variable sigma times (...) must not read as the sigmoid \sigma(...).
            if b.startswith(("(", r"\left")):
                return a + (r" \cdot " if self.is_latex else "·") + b
            return a + (r" \, " if self.is_latex else " ") + b
        if a and b and a[-1].isdigit() and (b[0].isdigit() or b[0] in ".-"):
            return a + (r" \cdot " if self.is_latex else "·") + b
        return f"{a} {b}"

    def func(self, name: str, arg: str) -> str:
        if self.is_latex:
            return rf"{name}\left({arg}\right)" if "\\frac" in arg else f"{name}({arg})"
        return f"{name}({arg})"

    def delim(self, s: str, kind: str) -> str:
        return rf"\left|{s}\right|" if self.is_latex else f"|{s}|"

    def sqrt(self, s: str) -> str:
        return rf"\sqrt{{{s}}}" if self.is_latex else f"√({s})"

    def sub_text(self, label: str) -> str:
        return rf"_{{\mathrm{{{label}}}}}" if self.is_latex else f"_{label}"

    def size(self, s) -> str:
        if self.is_latex:
            return sympy.latex(s)
        t = str(s).replace("*", "")
        return "".join(SUB[c] for c in t) if all(c in SUB for c in t) else "_" + t

    def name(self, name: str) -> str:
        try:
            if not self.is_latex:
                return unicode_name(name)
            return latex_name(name, bold=self.style.bold)
        except InvalidNameError:
            # Not a user name (those are checked at declaration): a derivation's own symbol.
            return name

    def number(self, v) -> tuple[str, int]:
        dec = decimal_text(v, self.is_latex)
        if dec is not None:
            return dec
        c, root = v.as_coeff_Mul() if isinstance(v, sympy.Mul) else (None, None)
        if (isinstance(c, sympy.Rational) and c.q > 1 and isinstance(root, sympy.Pow)
                and root.exp == sympy.S.Half and root.base.is_Integer):
            # SymPy's √6/6 is the 1/√6 a person writes
            num, k = c * root.base, root.base
            sign, num = ("-", -num) if num < 0 else ("", num)
            if self.is_latex:
                text, prec = rf"\frac{{{sympy.latex(num)}}}{{\sqrt{{{k}}}}}", FRAC
            else:
                text, prec = f"{num}/√{k}", HAD
            return (sign + text, NEG) if sign else (text, prec)
        if self.is_latex:
            s = sympy.latex(v)
        else:
            s = str(v).replace("**", "^").replace("*", "·").replace("sqrt", "√")
        if v.could_extract_minus_sign():
            return s, NEG
        if not self.is_latex and "/" in s:
            return s, HAD  # (1/m) x, not 1/m x
        if isinstance(v, sympy.Rational) and not v.is_Integer:
            return s, FRAC if self.is_latex else PROD
        if isinstance(v, sympy.Add):
            return s, ADD
        if isinstance(v, sympy.Mul):
            return s, PROD
        return s, ATOM

    def ones_vec(self, n) -> str:
        if self.is_latex:
            return f"{self.style.ones}_{{{self.size(n)}}}" if self.style.size_subscripts \
                else self.style.ones
        return self.style.ones + (self.size(n) if self.style.size_subscripts else "")

    def ones(self, shape) -> tuple[str, int]:
        T = self.style.transpose
        if all(s == 1 for s in shape):  # never a 1₁ factor: the (1,) or (1, 1) ones is 1
            return "1", ATOM
        if len(shape) == 1 or shape[1] == 1:
            return self.ones_vec(shape[0]), ATOM
        if shape[0] == 1:
            return self.ones_vec(shape[1]) + T, POSTFIX
        return self.juxt(self.ones_vec(shape[0]), self.ones_vec(shape[1]) + T), PROD

    def zeros(self, shape) -> tuple[str, int]:
        """A zero with its size (0ₙ, 0ₙₓₖ), for a bare 0 has no shape to read back."""
        if all(s == 1 for s in shape):
            return "0", ATOM
        T = self.style.transpose
        if len(shape) == 2 and 1 in shape:  # a column 0ₙ or a row 0ₘᵀ, as the ones
            zero = self.zeros((shape[0] if shape[1] == 1 else shape[1],))[0]
            return (zero, ATOM) if shape[1] == 1 else (zero + T, POSTFIX)
        if not self.is_latex:
            return "0" + self.size_of(shape), ATOM
        return r"\mathbf{0}_{" + r" \times ".join(self.size(s) for s in shape) + "}", ATOM

    def size_of(self, shape) -> str:
        """A Unicode subscript for a shape: ₙ, ₙₓₖ (or _(n×k) when a size has no subscript)."""
        subs = [self.size(s) for s in shape]
        if all(not s.startswith("_") for s in subs):
            return "ₓ".join(subs)
        return "_(" + "×".join(str(s) for s in shape) + ")"

    def eye(self, n) -> tuple[str, int]:
        if self.is_latex:
            return f"I_{{{self.size(n)}}}", ATOM
        return "I" + self.size(n), ATOM

    def upstream(self, of: str) -> tuple[str, int]:
        f = self.name(of)
        if not self.is_latex:
            return f"∂{self.style.loss}/∂{f}", FRAC
        if self.style.upstream == "bar":
            return rf"\bar{{{f}}}", ATOM
        if self.style.upstream == "delta":
            return rf"\delta_{{{f}}}", ATOM
        return rf"\frac{{\partial {self.style.loss}}}{{\partial {f}}}", FRAC

    def transpose(self, n: Node) -> tuple[str, int]:
        """n transposed: the op's own form where it declares one (A^{-T}), else (n)^T."""
        hook = n.op.print_transposed
        out = hook(n, self) if hook is not None else None
        return out if out is not None else (self.arg(n, ATOM) + self.style.transpose, POSTFIX)

    def inverse(self, n: Node, transposed: bool) -> tuple[str, int]:
        if self.is_latex:
            t = self.style.transpose.strip("^{}") if transposed else "1"
            return self.arg(n, ATOM) + "^{-" + t + "}", POSTFIX
        return self.arg(n, ATOM) + ("⁻ᵀ" if transposed else "⁻¹"), POSTFIX

    def norm(self, n: Node) -> tuple[str, int]:
        s = self.arg(n, 0)
        if self.is_latex:
            sub = "_{F}" if n.ndim == 2 and 1 not in n.shape else ""
            return rf"\left\| {s} \right\|{sub}", ATOM
        return f"‖{s}‖" + ("_F" if n.ndim == 2 and 1 not in n.shape else ""), ATOM

    def frac(self, a: Node, b: Node, out_shape) -> tuple[str, int]:
        if self.is_latex:
            return rf"\frac{{{self.operand(a, out_shape, 0)}}}{{{self.arg(b, 0)}}}", FRAC
        return f"{self.operand(a, out_shape, PROD)}/{self.arg(b, ATOM)}", PROD

    def power(self, base: Node, p: Node, elementwise: bool, value=None) -> tuple[str, int]:
        """base^p; `value` is p's number when it is one (Unicode writes it as a superscript).
        A broadcast operand prints in explicit form, as those of ⊙ (1ₙ vᵀ, not v)."""
        out = broadcast_shapes(base.shape, p.shape)
        b = self.operand(base, out, ATOM)
        if self.is_latex:
            circ = "\\circ " if elementwise else ""
            return f"{b}^{{{circ}{self.operand(p, out, 0)}}}", POSTFIX
        if value is not None and value.is_Integer:
            e = "".join(SUP[c] for c in str(value))
        else:
            e = "^(" + self.operand(p, out, 0) + ")"
        return b + ("∘" if elementwise else "") + e, POSTFIX


def decimal_text(v, latex: bool) -> tuple[str, int] | None:
    """A decimal rational as a person writes it: 0.1, 10^{-5}, 2.5 \\cdot 10^{-7}; None for
    integers, binary fractions (\frac{1}{2}, \frac{3}{4}) and other rationals."""
    if not isinstance(v, sympy.Rational) or v.is_Integer:
        return None
    q = int(v.q)
    if q & (q - 1) == 0 and abs(v.p) <= 16 and q <= 16:  # a small binary fraction: \frac{3}{4}
        return None
    twos = fives = 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    if q != 1:
        return None
    sign = "-" if v < 0 else ""
    d = (Decimal(abs(int(v.p))) / Decimal(int(v.q))).normalize()
    digits, exp = d.as_tuple().digits, d.as_tuple().exponent
    if -exp <= 3:
        return sign + format(d, "f"), (NEG if sign else ATOM)
    mant = Decimal((0, digits, -(len(digits) - 1)))  # d = mant · 10^e10, 1 <= mant < 10
    e10 = exp + len(digits) - 1
    power = f"10^{{{e10}}}" if latex else "10" + "".join(SUP[c] for c in str(e10))
    if mant == 1:
        return sign + power, (NEG if sign else POSTFIX)
    dot = r" \cdot " if latex else "·"
    return sign + format(mant, "f") + dot + power, (NEG if sign else PROD)


@overload
def latex(expr: Node | float | int, style: Style | None = None, **options) -> str: ...
@overload
def latex(expr: Sequence[Node], style: Style | None = None, **options) -> list[str]: ...
def latex(expr, style: Style | None = None, **options):
    """Paper-style LaTeX of an expression (options override fields of the Style); for a list
    of expressions, a list of strings printed with shared work."""
    st = replace(style or LATEX, **options) if options else (style or LATEX)
    p = Printer(st)
    if isinstance(expr, (list, tuple)):
        return [p(as_node(e)) for e in expr]
    return p(as_node(expr))


def unicode(expr, style: Style | None = None) -> str:
    """Unicode math text: W X + b 1ₖᵀ."""
    return Printer(style or UNICODE)(as_node(expr))


install_printers(sys.modules[__name__])  # str(node) and the Jupyter display print through here
