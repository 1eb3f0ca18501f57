"""Postfix operators: transposes, inverses, powers (matrix powers A^2, elementwise X^{\\circ 2},
powers of numbers bounded to float64's range)."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from ..algebra import to_sympy
from ..errors import AmbiguousInputError, LatexSyntaxError, ShapeError, SymgradError
from ..node import Node, describe, topo
from ..ops import api, core, linalg
from .declare import key_of
from .tree import A, V

_LETTER_T = re.compile(r"\^\s*(?:\{\s*)?T")


def _number_value(n: Node):
    """The SymPy value of a scalar made of numbers only (2^{10} unfolded), else None."""
    if n.op is core.NUMBER:
        return n.params[0]
    if n.ndim or any(m.op is not core.NUMBER and not m.args for m in topo([n])):
        return None
    try:
        return to_sympy(n)
    except SymgradError:
        return None


class Postfix:
    """The postfix methods of Builder (symgrad/latex_in/build.py)."""

    # ---- postfix operators -----------------------------------------------------------------
    def v_post(self, a: A) -> V:
        base, posts = a.kids
        if (base.kind == "name" and base.kids[:2] == ("e", None) and posts[0].kind == "pow"
                and key_of("e") not in self.d.vars and key_of("e") not in self.d.defs):
            v = V(api.exp(self.materialize(self.value(posts[0].kids[0]))), a.pos)
            posts = posts[1:]  # e^{x} with e undeclared is exp(x)
        else:
            v = self.value(base)
        for p in posts:
            self._last_pos = p.pos
            v = getattr(self, "p_" + p.kind)(v, p, base)
        return v

    def p_T(self, v: V, p: A, base: A) -> V:
        if v.pending:
            return replace(v, row=not v.row)
        x = v.node
        tee = self.d.vars.get("T", self.d.defs.get("T"))
        if tee is not None and tee.ndim == 0 and x.ndim == 0 and _LETTER_T.match(self.text, p.pos):
            raise self.fail(AmbiguousInputError, f"{describe(x)}^T has two readings: its "
                            "transpose (itself) or its power T, a declared scalar; write "
                            r"^\top for the transpose, ^{(T)} for the power", p.pos)
        if x.ndim == 2:
            return V(api.transpose(x), v.pos, ones=False)
        if x.ndim == 1:
            if v.row:
                return V(x, v.pos, ones=v.ones)
            return V(x, v.pos, row=True, lift=True, ones=v.ones, flex=v.flex)
        return v  # a scalar is its own transpose

    def p_inv(self, v: V, p: A, base: A) -> V:
        x = self.square_or_scalar(v, p, "^{-1}")
        if x.ndim == 0:
            return V(self.power(x, core.number(-1), p.pos), v.pos)
        return V(linalg.inv(x), v.pos)

    def p_invT(self, v: V, p: A, base: A) -> V:
        x = self.square_or_scalar(v, p, r"^{-\top}")
        if x.ndim == 0:
            return V(self.power(x, core.number(-1), p.pos), v.pos)
        return V(api.transpose(linalg.inv(x)), v.pos)

    def square_or_scalar(self, v: V, p: A, what: str) -> Node:
        x = self.materialize(v)
        if x.ndim == 1 or (x.ndim == 2 and x.shape[0] != x.shape[1]):
            raise self.fail(ShapeError, f"{describe(x)}{what}: only a square matrix has an "
                            "inverse", p.pos)
        return x

    def p_pow(self, v: V, p: A, base: A) -> V:
        e = self.materialize(self.value(p.kids[0]))
        x = self.materialize(v)
        if all(d == 1 for d in x.shape):  # 1×1 and (1,) are numbers on paper
            return V(self.power(x, e, p.pos), v.pos)
        k = core.const_value(e)
        if k is not None and k.is_Integer and x.ndim == 2 and x.shape[0] == x.shape[1]:
            if 1 <= k <= 16:  # a matrix power: A^2 = A A
                out = x
                for _ in range(int(k) - 1):
                    out = linalg.matmul(out, x)
                return V(out, v.pos)
        raise self.fail(AmbiguousInputError, f"a power of {describe(x)}: write "
                        r"X^{\circ 2} for the elementwise power (or x^\top x, "
                        r"\left\| x \right\|^{2})", p.pos)

    def power(self, x: Node, e: Node, pos: int) -> Node:
        self.bounded_power(x, e, pos)
        cx, ce = core.const_value(x), core.const_value(e)
        if self.foldable(cx, ce):
            if not (ce.is_Integer and abs(ce) <= 64) or (cx.is_Number and abs(cx) > 1e6):
                return api.pow(x, e)  # not folded: 10^{10^{10}} must not be computed
            return self.number(cx ** ce, pos)
        return api.pow(x, e)

    def bounded_power(self, x: Node, e: Node, pos: int) -> None:
        """A power of numbers beyond float64 (10^{10^{10}}) is refused: the simplifier would
        compute it exactly. Powers below are bounded, so their values are cheap to get."""
        vx, ve = _number_value(x), _number_value(e)
        if vx is None or ve is None or not (vx.is_number and ve.is_number) or vx.is_zero \
                or abs(vx) == 1:
            return
        try:
            digits = float(ve) * math.log10(abs(float(vx)))
        except (TypeError, ValueError, OverflowError):
            digits = math.inf
        if not abs(digits) < 308:
            raise self.fail(LatexSyntaxError, "a power of numbers beyond the range of float64 "
                            "(about 10^{±308})", pos)

    def p_hpow(self, v: V, p: A, base: A) -> V:
        e = self.materialize(self.value(p.kids[0]))
        x, e = self.unify_columns(self.materialize(v), e)  # elementwise, as ⊙ reads them
        return V(self.power(x, e, p.pos), v.pos)
