"""Shape inference for undeclared names, with matrixcalculus.org's habit stated as notes:
a capital letter is a matrix, a lowercase one a vector, a Greek one a scalar.

Sizes are unknowns joined (union-find) as the expression is read under the same rules as
the builder (`algebra.Ascii` runs over this class too). A vector added to a matrix is taken
as a column broadcast across the columns: in the founding case `W X + b`, b is n×1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..errors import SymgradError, UnsupportedError
from ..latex_in.declare import Declarations, key_of
from ..latex_in.tokens import GREEK_NAMES
from .algebra import ELEMENTWISE, REDUCTIONS, arity

SIZE_NAMES = "n m k p q r s t u v w".split()


@dataclass(frozen=True)
class Shape:
    dims: tuple[int, ...]  # size classes
    var: str | None = None  # an undeclared vector variable itself (it may become a column)


@dataclass
class Guess:
    kind: str  # "matrix", "vector", "column", "scalar"
    shape: Shape
    across: int | None = None  # for a column: the size class of the columns it spans


@dataclass
class Shapes:
    """The abstract algebra: values are `Shape`s of size classes."""

    decls: Declarations
    parent: list[int] = field(default_factory=list)
    value: dict[int, object] = field(default_factory=dict)  # class -> a known size
    guesses: dict[str, Guess] = field(default_factory=dict)

    # ---- size classes ---------------------------------------------------------------------
    def new(self, value=None) -> int:
        self.parent.append(len(self.parent))
        if value is not None:
            self.value[len(self.parent) - 1] = value
        return len(self.parent) - 1

    def find(self, c: int) -> int:
        while self.parent[c] != c:
            self.parent[c] = self.parent[self.parent[c]]
            c = self.parent[c]
        return c

    def unify(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        va, vb = self.value.get(a), self.value.get(b)
        if va is not None and vb is not None and sympy.simplify(va - vb) != 0:
            raise SymgradError(f"sizes {va} and {vb} would have to be equal")
        lo, hi = min(a, b), max(a, b)
        self.parent[hi] = lo
        if va is not None or vb is not None:
            self.value[lo] = va if va is not None else vb
            self.value.pop(hi, None)

    def is_one(self, c: int) -> bool:
        return self.value.get(self.find(c)) == 1

    # ---- the algebra ------------------------------------------------------------------------
    def var(self, name: str) -> Shape:
        k = key_of(name)
        v = self.decls.vars.get(k, self.decls.defs.get(k))
        if v is not None:
            return Shape(tuple(self.new(s) for s in v.shape))
        if name in self.guesses:
            g = self.guesses[name]
            return g.shape if g.kind != "vector" else Shape(g.shape.dims, name)
        base = name.split("_")[0]
        if base in GREEK_NAMES:
            g = Guess("scalar", Shape(()))
        elif base[:1].isupper():
            g = Guess("matrix", Shape((self.new(), self.new())))
        else:
            g = Guess("vector", Shape((self.new(),)))
        self.guesses[name] = g
        return Shape(g.shape.dims, name if g.kind == "vector" else None)

    def num(self, value) -> Shape:
        return Shape(())

    def ndim(self, a: Shape) -> int:
        return len(a.dims)

    def broadcast(self, a: Shape, b: Shape) -> Shape:
        if len(a.dims) == 1 and len(b.dims) == 2 and a.var:
            a = self.column(a.var, b)
        elif len(b.dims) == 1 and len(a.dims) == 2 and b.var:
            b = self.column(b.var, a)
        x, y = a.dims, b.dims
        out = list(x if len(x) >= len(y) else y)
        for i in range(1, min(len(x), len(y)) + 1):
            p, q = x[-i], y[-i]
            if self.is_one(p):
                out[-i] = q
            elif not self.is_one(q):
                self.unify(p, q)
        return Shape(tuple(out))

    def column(self, name: str, matrix: Shape) -> Shape:
        """The vector `name` next to a matrix: the column n×1 broadcast across its columns."""
        g = self.guesses[name]
        g.kind, g.across = "column", matrix.dims[1]
        g.shape = Shape((g.shape.dims[0], self.new(1)))
        return g.shape

    def binary(self, op: str, a: Shape, b: Shape) -> Shape:
        if op != "matmul":
            return self.broadcast(a, b)
        x, y = a.dims, b.dims
        if not x or not y or len(x) > 2 or len(y) > 2:
            raise UnsupportedError("shapes can be inferred for products of vectors and "
                                   "matrices only: declare them")
        self.unify(x[-1], y[0] if len(y) == 1 else y[-2])
        return Shape(x[:-1] + y[1:] if len(y) == 2 else x[:-1])

    def neg(self, a: Shape) -> Shape:
        return Shape(a.dims)

    def transpose(self, a: Shape) -> Shape:
        return Shape(tuple(reversed(a.dims)))

    def as_row(self, a: Shape) -> Shape:
        return Shape((self.new(1),) + a.dims)

    def call(self, name: str, args: list, kw: dict) -> Shape:
        arity(name, args, kw)
        x = args[0].dims
        if name in ELEMENTWISE or name == "softmax":
            return Shape(x)
        if name in REDUCTIONS:
            axis, keep = kw.get("axis"), kw.get("keepdims", False)
            axes = range(len(x)) if axis is None else [axis] if isinstance(axis, int) else axis
            axes = {i % len(x) for i in axes} if x else set()
            return Shape(tuple(self.new(1) if i in axes else d for i, d in enumerate(x)
                               if keep or i not in axes))
        if name == "outer":
            return Shape((x[0], args[1].dims[0]))
        if name == "transpose":
            return self.transpose(args[0])
        if name in ("norm", "norm2"):
            return Shape(())
        if name == "diag" and len(x) == 1:
            return Shape((x[0], x[0]))
        if len(x) != 2:
            raise SymgradError(f"{name}() takes a square matrix")
        self.unify(x[0], x[1])
        return Shape(x if name == "inv" else (x[0],) if name == "diag" else ())

    def define(self, name: str, a: Shape) -> Shape:
        return Shape(a.dims)

    # ---- the result ----------------------------------------------------------------------
    def names(self, taken: set[str]) -> dict[int, str]:
        """A name for each size class: its known size, or the next free of n, m, k, ..."""
        pool = [s for s in SIZE_NAMES if s not in taken]
        out: dict[int, str] = {}
        for g in self.guesses.values():
            for c in g.shape.dims + ((g.across,) if g.across is not None else ()):
                r = self.find(c)
                if r in out:
                    continue
                if r in self.value:
                    out[r] = str(self.value[r])
                else:
                    out[r] = pool.pop(0) if pool else f"n_{len(out) + 1}"
        return out

    def assumptions(self, taken: set[str]) -> tuple[dict[str, tuple[str, ...]], list[str]]:
        """The inferred shapes by name, and one note per guessed name saying why."""
        nm = self.names(taken)
        shapes: dict[str, tuple[str, ...]] = {}
        notes: list[str] = []
        for name, g in self.guesses.items():
            dims = tuple(nm[self.find(c)] for c in g.shape.dims)
            shapes[name] = dims
            if g.kind == "scalar":
                notes.append(f"{name}: a scalar (a Greek letter)")
            elif g.kind == "matrix":
                notes.append(f"{name}: {dims[0]}×{dims[1]} (a capital letter: a matrix)")
            elif g.kind == "vector":
                notes.append(f"{name}: a vector of length {dims[0]} (a lowercase letter)")
            else:
                k = nm[self.find(g.across)]
                notes.append(f"{name}: {dims[0]}×1, a column (a lowercase letter: a vector) "
                             f"broadcast across the {k} columns; declare {name}: 1×{k} if "
                             "it is a row")
        return shapes, notes
