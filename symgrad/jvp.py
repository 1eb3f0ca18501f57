"""Forward mode: the differential of an expression along given tangents (dy for dx, dW, ...).

No per-op forward rule is needed: a JVP is the transpose of the VJP. For an op linear in an
argument, the tangent is the op applied to the argument's tangent (d(A B) = dA B + A dB);
otherwise it is the gradient over u of <t, vjp(u)>, which is linear in u, taken by reverse mode
(grad.py). Derivations (symgrad.derivation) print these differentials step by step.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy

from .errors import ExpressionTypeError, ShapeError
from .grad import _check_wrt, backprop
from .node import Node, describe, topo
from .ops import arith, core, linalg, reduce, shape
from .simplify import simplify as _simplify


def depends(expr: Node, on: set[Node]) -> bool:
    """Does expr contain any of the nodes `on`?"""
    return any(n in on for n in topo(expr))


def signed(t: Node) -> tuple[int, Node]:
    """(-1, c) when t is -c or a negative multiple, else (1, t)."""
    if t.op is arith.NEG_OP:
        return -1, t.args[0]
    if t.op is arith.MUL_OP:
        c = core.const_value(t.args[0])
        if c is not None and c.could_extract_minus_sign():
            return -1, t.args[1] if -c == 1 else arith.mul(core.number(-c), t.args[1])
    return 1, t


def plus(a: Node, b: Node) -> Node:
    """a + b, written a - c when b is -c (so sums print without "+ -")."""
    sign, body = signed(b)
    return arith.sub(a, body) if sign < 0 else arith.add(a, b)


def inner(t: Node, g: Node, tidy: bool = False) -> Node:
    """<g, t> as an expression: tr(gᵀ t) for matrices, gᵀ t for vectors, g t for scalars.
    tidy: move gᵀ's transpose inward (tr(X⁻¹ dX) rather than tr((X⁻ᵀ)ᵀ dX))."""
    if t.ndim == 2:
        gt = shape.transpose(g)
        return linalg.trace(linalg.matmul(_simplify(gt) if tidy else gt, t))
    if t.ndim == 1:
        return linalg.matmul(g, t)
    return arith.mul(g, t)


def _linear_in(n: Node, j: int) -> bool:
    """Is n linear in its j-th argument? Its VJP there must not involve that argument (nor n),
    and n must vanish when that argument does (so add, affine, is not)."""
    a = n.args[j]
    # A fresh leaf in slot j: x may also occur inside the other arguments (xᵀA x).
    args = list(n.args)
    args[j] = core.variable("p(jvp)", *a.shape, kind=core.Kind.SYMBOL)
    m = Node(n.op, tuple(args), n.params)
    needs = tuple(i == j for i in range(len(n.args)))
    u = core.variable("u(jvp)", *n.shape, kind=core.Kind.SYMBOL)
    ct = m.op.vjp(m, u, needs)[j]
    if ct is None or depends(ct, {args[j], m}):
        return False
    args[j] = core.zeros(*a.shape)
    return core.is_zero(_simplify(Node(n.op, tuple(args), n.params)))


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


def _local_jvp(n: Node, j: int, t: Node) -> Node:
    """The tangent of n when its j-th argument moves by t."""
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
        return _simplify(inner(t, _simplify(g), tidy=True))
    u = core.variable("u(jvp)", *n.shape, kind=core.Kind.SYMBOL)
    g = shape.sum_to(n.op.vjp(n, u, needs)[j], a.shape)
    (out,) = backprop(reduce.sum_(arith.mul(t, g)), core.number(1), [u])
    return _simplify(out)


def _clutter(e: Node) -> int:
    """How hard a form is to read: its length, transposes counted thrice."""
    s = str(e)
    return len(s) + 2 * s.count("ᵀ")


def tangent(y: Node, tangents: Mapping[Node, Node]) -> Node:
    """The differential of y when each variable v moves by tangents[v], in the product rule's
    own form (dxᵀ A x + xᵀ A dx) unless simplifying shortens it. No checks: see jvp()."""
    d: dict[Node, Node] = dict(tangents)
    for n in topo(y):
        if n in d or not n.args:
            continue
        parts = [_local_jvp(n, j, d[a]) for j, a in enumerate(n.args) if a in d]
        if parts:
            total = parts[0]
            for p in parts[1:]:
                total = plus(total, p)
            d[n] = total
    out = d.get(y)
    if out is None:
        return core.zeros(*y.shape)
    tidy = _simplify(out)
    return tidy if _clutter(tidy) < _clutter(out) else out


def jvp(y: Node | float, tangents: Mapping[Node, Node | float], simplify: bool = True) -> Node:
    """The Jacobian-vector product: the differential dy when each variable v of y moves by
    tangents[v] (an expression of v's shape, often a fresh variable dv). Forward mode, the
    companion of grad.vjp: <u, jvp(y, {x: t})> = <vjp(y, x, u), t> for every u and t.

    simplify=False keeps the product rule's form (dxᵀ A x + xᵀ A dx) where it reads better.
    """
    y = core.as_node(y)
    if not isinstance(tangents, Mapping):
        raise ExpressionTypeError(f"jvp() takes tangents as a dict {{variable: tangent}}, not "
                         f"{type(tangents).__name__}")
    ts: dict[Node, Node] = {}
    for v, t in tangents.items():
        v, t = _check_wrt(v), core.as_node(t)
        if t.shape != v.shape:
            raise ShapeError(f"the tangent {describe(t)} must have the shape of {describe(v)}")
        ts[v] = t
    out = tangent(y, ts)
    return _simplify(out) if simplify else out
