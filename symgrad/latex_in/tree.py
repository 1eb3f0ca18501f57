"""The parse tree (A) and the values the builder passes around (V), with the statements and
the result of a document."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..node import Node
from .declare import Declarations

MAX_DEPTH = 120  # parse-tree depth; deeper input is refused (the builder recurses)


class LatexAssumptionWarning(UserWarning):
    """The input had more than one reading; the warning says which one symgrad took."""


class A:
    """A parse-tree node: kind, position in the input, children; depth bounded at creation."""

    __slots__ = ("kind", "pos", "kids", "depth")

    def __init__(self, kind: str, pos: int, *kids) -> None:
        self.kind, self.pos, self.kids = kind, pos, kids
        d = 0
        for k in kids:
            if isinstance(k, A):
                d = max(d, k.depth)
            elif isinstance(k, list):
                for x in k:
                    if isinstance(x, A):
                        d = max(d, x.depth)
                    elif isinstance(x, tuple):
                        d = max([d] + [y.depth for y in x if isinstance(y, A)])
        self.depth = d + 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(pos)

    def __repr__(self) -> str:  # pragma: no cover -- debugging aid
        return f"A({self.kind}, {self.kids!r})"


class _TooDeep(Exception):
    def __init__(self, pos: int) -> None:
        self.pos = pos


class _Unknown(Exception):
    pass


# ---- values while building ---------------------------------------------------------------------
@dataclass
class V:
    node: Node | None
    pos: int
    row: bool = False  # a 1-D vector written as a row: x^T, x^T A
    lift: bool = False  # the row is x^T itself: alone it is the (1, n) matrix
    ones: bool = False  # a bare ones vector: its 1-D / column / row form follows the product
    pending: str | None = None  # "eye", "ones", "zeros" written without a size
    paren: bool = False  # written in parentheses
    # A reduction of each column (logsumexp_col): the printer writes the 1-D result and the
    # kept-dims row alike, so it is a row where a product needs one, a column elsewhere.
    flex: bool = False
    one: bool = False  # the numeral 1 itself: next to a vector it could be the ones vector


@dataclass
class Statement:
    kind: str  # "expr", "eq", "decl"
    ast: A
    lhs: A | None = None


@dataclass
class Result:
    expr: Node
    label: str | None = None  # f in "f = ..."
    wrt: str | None = None  # b in "\frac{\partial L}{\partial b} = ..."
    decls: Declarations = field(default_factory=Declarations)
    row: bool = False  # a 1-D result written as a row (x^\top A): on paper, not a column
