"""SymPy interop: symgrad expressions to SymPy matrix expressions and back.

Conventions. SymPy's matrix expressions are 2-D, so a symgrad 1-D vector (n,) goes to SymPy as
an n×1 column `MatrixSymbol`, and a scalar as a SymPy scalar (`Symbol` for a scalar variable,
`Trace`, `Determinant`, ... for a reduction). NumPy broadcasting becomes products with
`OneMatrix`, as `explicit()` writes it (`b 1ₖᵀ`); sums are products with ones vectors, and a
1×1 product used as a scalar is its `Trace` (SymPy expands `M[0, 0]` into an index sum).
Coming back, `from_sympy` keeps SymPy's shapes: an n×1 `MatrixSymbol` becomes an (n, 1)
matrix, unless `variables=` gives a symgrad variable of that name (a 1-D vector, or a matrix
declared symmetric), which is then used, reshaped to the column where it is 1-D; and a
`Trace` of a 1×1 product becomes that product's only entry, a symgrad scalar.
Sizes are the same SymPy Symbols in both directions; a SymPy size without assumptions (as
`symbols("n")` makes) becomes the positive-integer symgrad size of the same name.
A node with no counterpart raises `UnsupportedError` naming it, in either direction.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Iterable

import sympy
from sympy.matrices import expressions as mx
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from . import algebra
from .errors import ShapeError, SizeError, UnsupportedError
from .node import Node, describe, topo
from .op import REGISTRY
from .ops import arith, core, elementwise, linalg, reduce, shape
from .ops.kron import KRON, kron
from .shapes import as_size, fmt_shape

__all__ = ["from_sympy", "to_sympy"]

X = elementwise.X
# Definitions SymPy should see where symgrad's differs only at a point of measure zero:
# symgrad's step(0) is 0, SymPy's Heaviside(0) is 1/2 unless told.
_EXPORTED = {"step": sympy.Heaviside(X, 0)}


# ---- symgrad -> SymPy ---------------------------------------------------------------------
def _canon(shp) -> tuple | None:
    """The SymPy shape of a symgrad shape: None for a scalar, a column for 1-D."""
    if len(shp) == 0:
        return None
    return (shp[0], 1) if len(shp) == 1 else tuple(shp)


def _broadcast(v, src, dst):
    """The SymPy value `v` of a symgrad shape `src` broadcast to `dst`, as ones products."""
    if src == dst:
        return v
    r, c = _canon(dst)
    if not src:
        return v * mx.OneMatrix(r, c)
    if len(dst) == 2 and len(src) == 1:  # a 1-D operand is a row of a 2-D result
        v = v.T
    rows, cols = v.shape
    if rows != r:
        v = mx.OneMatrix(r, 1) * v
    if cols != c:
        v = v * mx.OneMatrix(1, c)
    return v


def _scalar_of(v):
    """A 1×1 SymPy matrix as a scalar: its trace."""
    return mx.Trace(v)


def _sum(v, src, axes, out):
    """sum over `axes` of a value of symgrad shape `src`, giving symgrad shape `out`."""
    if len(src) == 1:
        return _reshaped(mx.OneMatrix(1, src[0]) * v, (1, 1), out)
    r, c = src
    if set(axes) == {0, 1}:
        m = mx.OneMatrix(1, r) * v * mx.OneMatrix(c, 1)
        return _reshaped(m, (1, 1), out)
    if axes == (1,):  # row sums: a column
        return _reshaped(v * mx.OneMatrix(c, 1), (r, 1), out)
    return _reshaped(mx.OneMatrix(1, r) * v, (1, c), out)  # column sums: a row


def _reshaped(v, src, dst):
    """Only unit axes change: (n,) ~ (n, 1) are one column; (1, n) is its transpose."""
    if _canon(src) == _canon(dst):
        return v
    if not dst:
        return _scalar_of(v)
    if not src:
        return v * mx.OneMatrix(*_canon(dst))
    return v.T


def _matmul(n, a, b):
    x, y = n.args
    if x.ndim == 1 and y.ndim == 1:
        return _scalar_of(a.T * b)
    if x.ndim == 1:
        return b.T * a  # xᵀ B as the column Bᵀ x
    return a * b


def _elementwise(n, a):
    body = _EXPORTED.get(n.op.name, n.op.definition)
    if n.ndim == 0:
        return body.subs(X, a)
    d = sympy.Dummy("x")  # SymPy's own habit (A.applyfunc(exp)); never confused with a symbol
    return ElementwiseApplyFunction(sympy.Lambda(d, body.xreplace({X: d})), a)


_SCALAR = {arith.ADD_OP: operator.add, arith.SUB_OP: operator.sub, arith.MUL_OP: operator.mul,
           arith.DIV_OP: operator.truediv, arith.POW_OP: operator.pow}


def _binary(n, a, b):
    x, y = n.args
    op = n.op
    if n.ndim == 0:
        return _SCALAR[op](a, b)
    if op in (arith.MUL_OP, arith.DIV_OP) and (x.ndim == 0 or y.ndim == 0):
        if y.ndim == 0:
            return a * b if op is arith.MUL_OP else a / b
        if op is arith.MUL_OP:
            return a * _broadcast(b, y.shape, n.shape)
    if op is arith.POW_OP:
        if y.ndim:
            raise UnsupportedError(
                f"to_sympy: SymPy has no elementwise power with an array exponent "
                f"(in {describe(n)})")
        return mx.HadamardPower(_broadcast(a, x.shape, n.shape), b)
    u, v = _broadcast(a, x.shape, n.shape), _broadcast(b, y.shape, n.shape)
    if op is arith.ADD_OP:
        return u + v
    if op is arith.SUB_OP:
        return u - v
    if op is arith.MUL_OP:
        return mx.HadamardProduct(u, v)
    if x.ndim == 0:
        return a * mx.HadamardPower(v, -1)
    return mx.HadamardProduct(u, mx.HadamardPower(v, -1))


def _lowered(n: Node) -> Node:
    """Ops with no SymPy node of their own, written in ops that have one."""
    x = n.args[0]
    if n.op is reduce.LSE:
        axes, keepdims = n.params
        return elementwise.log(reduce.sum_(elementwise.exp(x), axes, keepdims))
    if n.op is reduce.SOFTMAX:
        e = elementwise.exp(x)
        return e / reduce.sum_(e, n.params[0], keepdims=True)
    if n.op is linalg.NORM:
        return elementwise.sqrt(reduce.sum_(x * x))
    return shape._sum_to_as_sum(n)  # sum_to


_LOWERED = {reduce.LSE, reduce.SOFTMAX, linalg.NORM, shape.SUM_TO}


def _convert(n: Node, v: list):
    op, x = n.op, (n.args[0] if n.args else None)
    if op is core.VAR:
        name, shp, _ = n.params
        return sympy.Symbol(name, real=True) if not shp else mx.MatrixSymbol(name, *_canon(shp))
    if op is core.NUMBER:
        return n.params[0]
    if op is core.ONES:
        return mx.OneMatrix(*_canon(n.shape))
    if op is core.ZEROS:
        return mx.ZeroMatrix(*_canon(n.shape))
    if op is core.EYE:
        return mx.Identity(n.shape[0])
    if op is core.NAME:
        return v[0]
    if op is shape.T:
        return v[0].T
    if op is shape.RESHAPE:
        return _reshaped(v[0], x.shape, n.shape)
    if op is shape.BROADCAST:
        return _broadcast(v[0], x.shape, n.shape)
    if op is arith.NEG_OP:
        return -v[0]
    if op in (arith.ADD_OP, arith.SUB_OP, arith.MUL_OP, arith.DIV_OP, arith.POW_OP):
        return _binary(n, *v)
    if op is linalg.MATMUL:
        return _matmul(n, *v)
    if op is linalg.OUTER:
        return v[0] * v[1].T
    if op is linalg.TRACE:
        return mx.Trace(v[0])
    if op is linalg.INV:
        return mx.Inverse(v[0])
    if op is linalg.DET:
        return mx.Determinant(v[0])
    if op is linalg.LOGDET:
        return sympy.log(mx.Determinant(v[0]))
    if op is linalg.DIAG:
        return mx.DiagMatrix(v[0]) if x.ndim == 1 else mx.DiagonalOf(v[0])
    if op is reduce.SUM:
        return _sum(v[0], x.shape, n.params[0], n.shape)
    if op is KRON:  # of two columns too: np.kron of 1-D vectors stacks the same way
        return mx.KroneckerProduct(*v)
    if getattr(op, "definition", None) is not None:
        return _elementwise(n, v[0])
    raise UnsupportedError(
        f"to_sympy: SymPy has no counterpart of symgrad's {op.name!r} (in {describe(n)})")


def to_sympy(expr) -> sympy.Expr:
    """The SymPy form of a symgrad expression: a `MatrixExpr` for an array (1-D vectors as
    n×1 columns), a scalar `Expr` for a scalar; sizes are the same SymPy Symbols."""
    root = core.as_node(expr)
    memo: dict[Node, object] = {}
    for n in topo(root):
        if n.op in _LOWERED:  # its replacement uses only ops converted directly
            m = _lowered(n)
            for q in topo(m):
                if q not in memo:
                    memo[q] = _convert(q, [memo[a] for a in q.args])
            memo[n] = memo[m]
        else:
            memo[n] = _convert(n, [memo[a] for a in n.args])
    return memo[root]


# ---- SymPy -> symgrad ---------------------------------------------------------------------
class _Reader:
    def __init__(self, e, variables: Iterable[Node]) -> None:
        self.vars: dict[str, Node] = {}
        for v in variables:
            if not isinstance(v, Node) or v.op is not core.VAR:
                raise UnsupportedError(f"from_sympy: variables= takes symgrad variables, got {v!r}")
            self.vars[v.params.name] = v
        self.dims = self._dims(e)
        self.memo: dict = {}

    @staticmethod
    def _dims(e) -> dict:
        """SymPy sizes -> symgrad sizes (the same Symbol where it is a positive integer)."""
        out: dict = {}
        for m in sympy.preorder_traversal(e):
            if isinstance(m, sympy.MatrixExpr):
                for s in m.shape:
                    for sym in sympy.sympify(s).free_symbols:
                        if sym.is_integer and sym.is_positive:
                            out[sym] = sym
                        elif sym.is_integer is False or sym.is_positive is False:
                            raise SizeError(f"from_sympy: size {sym} is not a positive integer")
                        else:
                            out[sym] = sympy.Symbol(sym.name, positive=True, integer=True)
        return out

    def size(self, s):
        return as_size(sympy.sympify(s).xreplace(self.dims))

    def shape(self, m) -> tuple:
        return tuple(self.size(s) for s in m.shape)

    def matrix_symbol(self, m) -> Node:
        name, shp = m.name, self.shape(m)
        v = self.vars.get(name)
        if v is None:
            kind = core.Kind.UPSTREAM if name.startswith(core.UPSTREAM_PREFIX) else core.Kind.VAR
            return core.variable(name, *shp, kind=kind)
        if v.shape == shp:
            return v
        if v.ndim == 1 and shp == (v.shape[0], 1):
            return shape.reshape(v, shp)
        raise ShapeError(f"from_sympy: {name} is {shp[0]}×{shp[1]} in SymPy but the variable "
                         f"given has shape {fmt_shape(v.shape)}")

    def read(self, e) -> Node:
        if e in self.memo:
            return self.memo[e]
        out = self._matrix(e) if isinstance(e, sympy.MatrixExpr) else self._scalar(e)
        self.memo[e] = out
        return out

    def _matrix(self, e) -> Node:
        r = self.read
        if isinstance(e, mx.MatrixSymbol):
            return self.matrix_symbol(e)
        if isinstance(e, mx.Identity):
            return core.eye(self.size(e.rows))
        if isinstance(e, mx.ZeroMatrix):
            return core.zeros(*self.shape(e))
        if isinstance(e, mx.OneMatrix):
            return core.ones(*self.shape(e))
        if isinstance(e, mx.MatMul):
            coeff, factors = e.as_coeff_matrices()
            out = r(factors[0])
            for f in factors[1:]:
                out = linalg.matmul(out, r(f))
            return out if coeff == 1 else arith.mul(self._scalar(coeff), out)
        if isinstance(e, mx.MatAdd):
            terms = sorted(e.args, key=_negated)  # A - B, not -B + A
            out = r(-terms[0]) if _negated(terms[0]) else r(terms[0])
            if _negated(terms[0]):
                out = arith.neg(out)
            for t in terms[1:]:
                out = arith.sub(out, r(-t)) if _negated(t) else arith.add(out, r(t))
            return out
        if isinstance(e, mx.Transpose):
            return shape.transpose(r(e.arg))
        if isinstance(e, mx.Inverse):
            return linalg.inv(r(e.arg))
        if isinstance(e, mx.MatPow):
            return self._matpow(e)
        if isinstance(e, mx.HadamardProduct):
            out = r(e.args[0])
            for f in e.args[1:]:
                out = arith.mul(out, r(f))
            return out
        if isinstance(e, mx.HadamardPower):
            return arith.pow(r(e.base), self._scalar(e.exp))
        if isinstance(e, ElementwiseApplyFunction):
            return self._applyfunc(e)
        if isinstance(e, mx.DiagMatrix):
            col = r(e.args[0])
            return linalg.diag(shape.reshape(col, (col.shape[0] * col.shape[1],)))
        if isinstance(e, mx.DiagonalOf):
            d = linalg.diag(r(e.arg))
            return shape.reshape(d, (d.shape[0], 1))
        if isinstance(e, mx.KroneckerProduct):
            out = r(e.args[0])
            for f in e.args[1:]:
                out = kron(out, r(f))
            return out
        raise _unsupported(e)

    def _matpow(self, e) -> Node:
        base, p = self.read(e.base), e.exp
        if not (p.is_Integer):
            raise UnsupportedError(f"from_sympy: a matrix power needs an integer exponent, "
                                   f"got {p} (in {e})")
        k = int(p)
        if k == 0:
            return core.eye(base.shape[0])
        m = base if k > 0 else linalg.inv(base)
        out = m
        for _ in range(abs(k) - 1):
            out = linalg.matmul(out, m)
        return out

    def _applyfunc(self, e) -> Node:
        arg = self.read(e.expr)
        fn = e.function
        if not isinstance(fn, sympy.Lambda):  # a function class: ElementwiseApplyFunction(exp, A)
            d = sympy.Dummy("x")
            fn = sympy.Lambda(d, fn(d))
        (var,) = fn.variables
        body = fn.expr.xreplace({var: X})
        for op in REGISTRY.values():
            d = getattr(op, "definition", None)
            if d is not None and body in (d, _EXPORTED.get(op.name)):
                return Node(op, (arg,))
        try:
            return algebra.from_sympy(body, {X: arg})
        except UnsupportedError:
            pass
        # A function of SymPy's (erf) keeps its name; another body gets a stable one.
        digest = hashlib.blake2b(sympy.srepr(body).encode(), digest_size=3).hexdigest()
        name = body.func.__name__ if body.args == (X,) else f"f_{digest}"
        return elementwise.elementwise(name, body, arg)

    def _scalar(self, e) -> Node:
        """A SymPy scalar: matrix-valued atoms and scalar variables become nodes, and
        symgrad's scalar algebra (algebra.from_sympy) reads the arithmetic around them."""
        e = sympy.sympify(e)
        subs: dict = {}
        repl: dict = {}
        walk = sympy.preorder_traversal(e)
        for s in walk:
            node = self._scalar_atom(s)
            if node is not None:
                key = sympy.Symbol(f"_interop{len(subs)}", real=True)
                subs[key], repl[s] = node, key
                walk.skip()
        return algebra.from_sympy(e.xreplace(repl).xreplace(self.dims), subs)

    def _scalar_atom(self, s) -> Node | None:
        if isinstance(s, sympy.log) and isinstance(s.args[0], mx.Determinant):
            return linalg.logdet(self.read(s.args[0].arg))
        if isinstance(s, mx.Determinant):
            return linalg.det(self.read(s.arg))
        if isinstance(s, mx.Trace):
            m = self.read(s.arg)
            return shape.reshape(m, ()) if m.shape == (1, 1) else linalg.trace(m)
        if isinstance(s, sympy.Symbol) and s not in self.dims and not (
                s.is_integer and s.is_positive):
            v = self.vars.get(s.name)
            return v if v is not None and v.ndim == 0 else core.variable(s.name)
        if isinstance(s, (sympy.MatrixExpr, MatrixElement, sympy.Sum, sympy.Indexed)):
            raise _unsupported(s)
        return None


def _negated(t) -> bool:
    return isinstance(t, mx.MatMul) and bool(t.as_coeff_matrices()[0].is_negative)


def _unsupported(e) -> UnsupportedError:
    return UnsupportedError(
        f"from_sympy: symgrad has no counterpart of SymPy's {type(e).__name__} (in {e})")


def from_sympy(matexpr, variables: Iterable[Node] = ()) -> Node:
    """The symgrad form of a SymPy matrix expression (or scalar expression).

    SymPy's shapes are kept (an n×1 `MatrixSymbol` is an (n, 1) matrix); `variables=` gives
    symgrad variables to use for the SymPy symbols of the same names: a 1-D vector stands for
    its n×1 column, a symmetric matrix keeps its declaration. A scalar Symbol is a size when it
    is one of the matrices' sizes or a positive integer, and a scalar variable otherwise.
    """
    if isinstance(matexpr, str):  # never parsed here: sympify would evaluate the text
        raise UnsupportedError("from_sympy takes a SymPy expression, not a string; "
                               "use sg.parse for LaTeX")
    try:
        e = sympy.sympify(matexpr, strict=True)
    except (sympy.SympifyError, TypeError) as exc:
        raise UnsupportedError(f"from_sympy: {matexpr!r} is not a SymPy expression") from exc
    return _Reader(e, variables).read(e)
