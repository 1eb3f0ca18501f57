"""Expression nodes: immutable, interned (structural equality is identity), shape-checked."""

from __future__ import annotations

import functools
import hashlib
import weakref
from collections.abc import Iterator
from typing import Any

from .errors import ExpressionTypeError, ShapeError
from .op import Op
from .shapes import Shape, fmt_shape


class _Key:
    """An interning key with its hash computed once (SymPy params are slow to hash, and must
    not be re-hashed while the interpreter shuts down and the weak table empties)."""

    __slots__ = ("t", "h")

    def __init__(self, t: tuple) -> None:
        self.t, self.h = t, hash(t)

    def __hash__(self) -> int:
        return self.h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.h == other.h and self.t == other.t


@functools.lru_cache(maxsize=4096)
def _params_text(params: tuple) -> str:
    """repr(params), remembered: SymPy prints a coefficient like 2/(N c) slowly, and the same
    few coefficients make most new nodes. Params equal as keys intern to one node anyway."""
    return repr(params)


def clear_caches() -> None:
    """Forget what outlives a call (the params' text), for timings that start cold."""
    _params_text.cache_clear()


class Node:
    """One immutable DAG node: (op, args, params) with its shape inferred at construction.

    Nodes are interned, so two structurally equal expressions are the same object: common
    subexpressions are shared for free and memo tables keyed on nodes are exact.
    """

    __slots__ = ("op", "args", "params", "shape", "size", "digest", "__weakref__")
    _table: weakref.WeakValueDictionary[_Key, Node] = weakref.WeakValueDictionary()

    op: Op
    args: tuple[Node, ...]
    params: tuple
    shape: Shape
    size: int  # tree size, for ordering terms simplest-first
    digest: str  # structural digest, stable across runs (deterministic ordering)

    def __new__(cls, op: Op, args: tuple = (), params: tuple = ()):
        key = _Key((op.name, args, params))
        hit = cls._table.get(key)
        if hit is not None:
            return hit
        shape = op.shape(args, params)
        self = object.__new__(cls)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "shape", tuple(shape))
        object.__setattr__(self, "size", 1 + sum(a.size for a in args))
        h = hashlib.blake2b(digest_size=10)
        h.update(f"{op.name}|{_params_text(params)}|".encode())
        for a in args:
            h.update(a.digest.encode())
        object.__setattr__(self, "digest", h.hexdigest())
        cls._table[key] = self
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("symgrad nodes are immutable")

    def __reduce__(self):
        return (Node, (self.op, self.args, self.params))

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:  # interned: equality is identity
        return self is other

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def sort_key(self) -> tuple:
        """Simplest first, then by variable name, then structurally: deterministic order."""
        return (self.size, self.params.name if self.op.name == "var" else "", self.digest)

    # ---- NumPy-style operators and printing: installed from above ----------------------
    # The op families and the printer import this module, so they install the operators
    # (install_operators, install_printers) once they exist: no import cycle.
    _ops: Any = None
    _print: Any = None

    def __add__(self, o):
        return Node._ops.add(self, o)

    def __radd__(self, o):
        return Node._ops.add(o, self)

    def __sub__(self, o):
        return Node._ops.sub(self, o)

    def __rsub__(self, o):
        return Node._ops.sub(o, self)

    def __mul__(self, o):
        return Node._ops.mul(self, o)

    def __rmul__(self, o):
        return Node._ops.mul(o, self)

    def __truediv__(self, o):
        return Node._ops.div(self, o)

    def __rtruediv__(self, o):
        return Node._ops.div(o, self)

    def __pow__(self, o):
        return Node._ops.pow(self, o)

    def __rpow__(self, o):
        return Node._ops.pow(o, self)

    def __matmul__(self, o):
        return Node._ops.matmul(self, o)

    def __rmatmul__(self, o):
        return Node._ops.matmul(o, self)

    def __neg__(self):
        return Node._ops.neg(self)

    def __pos__(self):
        return self

    @property
    def T(self) -> Node:
        return Node._ops.transpose(self)

    def __bool__(self) -> bool:
        raise ExpressionTypeError(
            "a symgrad expression has no truth value; compare values with sg.evaluate, "
            "or structure with `is`"
        )

    def __iter__(self) -> Iterator:
        raise ExpressionTypeError("a symgrad expression is not iterable")

    def __str__(self) -> str:
        return Node._print.unicode(self)

    def __repr__(self) -> str:
        return f"<{self.op.name} {fmt_shape(self.shape)}: {Node._print.unicode(self, inline=True)}>"

    def _repr_latex_(self) -> str:
        return Node._print.repr_latex(self)


def install_operators(ops: Any) -> None:
    """Give nodes their NumPy-style operators: `ops` has add sub mul div pow matmul neg
    transpose (the public constructors, which coerce Python numbers)."""
    type.__setattr__(Node, "_ops", ops)


def install_printers(printers: Any) -> None:
    """Give nodes str() and the Jupyter display: `printers` has unicode and latex."""
    type.__setattr__(Node, "_print", printers)


def describe(x: Node, limit: int = 40) -> str:
    """A short name of an operand for error messages: its text and its shape."""
    try:
        s = Node._print.unicode(x, inline=True)
    except Exception:  # noqa: BLE001 -- error text must never fail
        s = x.op.name
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return f"{s} (shape {fmt_shape(x.shape)})"


def shape_error(what: str, a: Node, b: Node, why: str = "") -> ShapeError:
    tail = f": {why}" if why else ""
    return ShapeError(f"cannot {what} {describe(a)} and {describe(b)}{tail}")


def topo(roots, leaf=None) -> list[Node]:
    """Post-order of the DAG below `roots` (iterative, deterministic, each node once).

    `leaf(n)` true: n is listed but not descended into (already-processed subgraphs)."""
    if isinstance(roots, Node):
        roots = [roots]
    seen: set[int] = set()
    out: list[Node] = []
    for r in roots:
        if id(r) in seen:
            continue
        stack: list[tuple[Node, int]] = [(r, 0)]
        while stack:
            n, i = stack.pop()
            if i == 0 and id(n) in seen:
                continue
            if i < len(n.args) and not (leaf is not None and leaf(n)):
                stack.append((n, i + 1))
                c = n.args[i]
                if id(c) not in seen:
                    stack.append((c, 0))
            else:
                if id(n) not in seen:
                    seen.add(id(n))
                    out.append(n)
    return out


def substitute(expr, mapping: dict[Node, Node]):
    """Replace subexpressions by `mapping` (bottom-up, iterative, shared nodes once);
    `expr` may be a list of expressions, which share the work."""
    many = isinstance(expr, (list, tuple))
    exprs = list(expr) if many else [expr]
    memo: dict[Node, Node] = {}
    keep = set(mapping.values())  # replacements are final: never rewritten inside
    for n in topo(exprs):
        if n in mapping or n in keep:
            memo[n] = mapping.get(n, n)
            continue
        args = tuple(memo[a] for a in n.args)
        memo[n] = n if args == n.args else Node(n.op, args, n.params)
    return [memo[e] for e in exprs] if many else memo[exprs[0]]
