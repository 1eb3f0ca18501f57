"""What the walker's nodes mean: symgrad nodes under NumPy rules (Python syntax), and the
ASCII layer on top (`*` is the matrix product, a transposed 1-D vector is a row).

The same layer runs over `infer.Shapes`, so shape inference reads the input exactly as the
builder does.
"""

from __future__ import annotations

from ..errors import ShapeError, SymgradError, UnknownSymbolError, UnsupportedError
from ..latex_in.declare import Declarations, key_of
from ..node import Node
from ..ops import api

ELEMENTWISE = {"exp": api.exp, "log": api.log, "ln": api.log, "sqrt": api.sqrt,
               "tanh": api.tanh, "sigmoid": api.sigmoid, "relu": api.relu,
               "softplus": api.softplus, "sin": api.sin, "cos": api.cos, "abs": api.abs_}
REDUCTIONS = {"sum": api.sum_, "mean": api.mean, "logsumexp": api.logsumexp}
UNARY = {"trace": api.trace, "tr": api.trace, "det": api.det, "logdet": api.logdet,
         "inv": api.inv, "diag": api.diag, "norm": api.norm, "norm2": api.norm}
FUNCTIONS = sorted({*ELEMENTWISE, *REDUCTIONS, *UNARY, "softmax", "outer", "transpose"})


def arity(name: str, args: list, kw: dict) -> None:
    """Refuse unknown functions, wrong argument counts and keywords where they mean nothing."""
    if name not in FUNCTIONS:
        raise UnsupportedError(f"unknown function {name}(); known: {', '.join(FUNCTIONS)}")
    want = 2 if name == "outer" else 1
    if len(args) != want:
        raise SymgradError(f"{name}() takes {want} argument{'s' if want > 1 else ''}, "
                           f"got {len(args)}")
    allowed = {"axis", "keepdims"} if name in REDUCTIONS else {"axis"} if name == "softmax" \
        else set()
    extra = set(kw) - allowed
    if extra:
        raise SymgradError(f"{name}() takes no {sorted(extra)[0]}= keyword")


class Nodes:
    """Python syntax: NumPy semantics on symgrad nodes, variables from the declarations."""

    def __init__(self, decls: Declarations) -> None:
        self.decls = decls

    def var(self, name: str) -> Node:
        k = key_of(name)
        v = self.decls.vars.get(k, self.decls.defs.get(k))
        if v is None:
            raise UnknownSymbolError(f"unknown symbol {name}: declare its shape, e.g. "
                                     f"{name}: n×m", names=(name,))
        return v

    def num(self, value) -> Node:
        return api.as_node(value)

    def ndim(self, a: Node) -> int:
        return a.ndim

    def binary(self, op: str, a: Node, b: Node) -> Node:
        if op == "xor":
            raise SymgradError("^ is not a power in Python: write ** (elementwise power)")
        return {"add": api.add, "sub": api.sub, "mul": api.mul, "div": api.div,
                "matmul": api.matmul, "pow": api.pow}[op](a, b)

    def neg(self, a: Node) -> Node:
        return api.neg(a)

    def transpose(self, a: Node) -> Node:
        return a.T

    def as_row(self, a: Node) -> Node:
        return api.reshape(a, (1, a.shape[0]))

    def call(self, name: str, args: list, kw: dict) -> Node:
        arity(name, args, kw)
        if name in ELEMENTWISE:
            return ELEMENTWISE[name](args[0])
        if name in REDUCTIONS:
            return REDUCTIONS[name](args[0], **kw)
        if name == "softmax":
            return api.softmax(args[0], **kw)
        if name == "outer":
            return api.outer(*args)
        if name == "transpose":
            return args[0].T
        return UNARY[name](args[0])

    def define(self, name: str, a: Node) -> Node:
        return api.name(name, a)


class Ascii:
    """matrixcalculus.org's reading on top of a NumPy-rule algebra: values are (value, row),
    row meaning a 1-D vector written transposed (`x'`)."""

    def __init__(self, base) -> None:
        self.base = base

    def var(self, name):
        return self.base.var(name), False

    def num(self, value):
        return self.base.num(value), False

    def value(self, a):
        """The final value: a lone row x' is the 1×n matrix."""
        v, row = a
        return self.base.as_row(v) if row and self.base.ndim(v) == 1 else v

    def binary(self, op: str, a, b):
        (x, xr), (y, yr) = a, b
        nd = self.base.ndim
        if op == "matmul":
            if nd(x) == 0 or nd(y) == 0:
                return self.base.binary("mul", x, y), (xr if nd(x) else yr)
            if nd(x) == 1 and nd(y) == 1:
                if xr and not yr:  # x' * y: the inner product
                    return self.base.binary("matmul", x, y), False
                if yr and not xr:  # x * y': the outer product
                    return self.base.call("outer", [x, y], {}), False
                raise ShapeError(f"both factors are {'rows' if xr else 'columns'}: write "
                                 "x'*y for the inner product, x*y' for the outer product")
            if nd(x) == 1 and not xr:
                raise ShapeError("a column vector times a matrix: transpose the vector (x'*A)")
            if nd(y) == 1 and yr:
                raise ShapeError("a matrix times a row vector: transpose the vector (A*x)")
            return self.base.binary("matmul", x, y), nd(x) == 1
        if op == "xor":
            if nd(x) != 0 or nd(y) != 0:
                raise SymgradError("^ takes scalars: write A*A for a matrix power and .^ for "
                                   "the elementwise power")
            return self.base.binary("pow", x, y), False
        if nd(x) == 1 and nd(y) == 1 and xr != yr:
            raise ShapeError("a row vector and a column vector: transpose one of them")
        if (xr or yr) and not (nd(x) in (0, 1) and nd(y) in (0, 1) and (xr or nd(x) == 0)
                               and (yr or nd(y) == 0)):
            x, y = self.value(a), self.value(b)  # a row next to a matrix: the 1×n matrix
            return self.base.binary(op, x, y), False
        return self.base.binary(op, x, y), xr or yr

    def neg(self, a):
        return self.base.neg(a[0]), a[1]

    def transpose(self, a):
        v, row = a
        if self.base.ndim(v) == 1:
            return v, not row
        return self.base.transpose(v), False

    def call(self, name: str, args: list, kw: dict):
        arity(name, args, kw)
        if name == "transpose":
            return self.transpose(args[0])
        if name == "outer":
            return self.base.call(name, [v for v, _ in args], kw), False
        keep = name in ELEMENTWISE or name == "softmax"
        v, row = args[0]
        return self.base.call(name, [v], kw), row and keep

    def define(self, name: str, a):
        return self.base.define(name, self.value(a)), False
