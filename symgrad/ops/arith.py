"""Elementwise arithmetic with NumPy broadcasting: + - * / ** and negation."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..node import Node, shape_error
from ..op import ADD, HAD, NEG, PROD, Op, register
from ..shapes import broadcast_shapes
from . import core
from .shape import explicit_broadcast

# Every broadcasting pair of the test shapes (), (4,), (3,4), (1,4), (3,1).
TEST_SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1)]


def _pairs():
    out = []
    for a in TEST_SHAPES:
        for b in TEST_SHAPES:
            try:
                broadcast_shapes(a, b)
            except ShapeError:
                continue
            out.append((a, b))
    return out


def _binary_cases(fn, da="any", db="any"):
    return lambda: [(fn, [(a, da), (b, db)]) for a, b in _pairs()]


def _bshape(verb):
    def shape(args, params):
        a, b = args
        try:
            return broadcast_shapes(a.shape, b.shape)
        except ShapeError:
            raise shape_error(verb, a, b, "shapes do not broadcast") from None

    return shape


def _explicit_binary(n: Node) -> Node:
    """Make every non-scalar broadcast operand a product with ones vectors."""
    args = tuple(a if a.ndim == 0 else explicit_broadcast(a, n.shape) for a in n.args)
    return Node(n.op, args, n.params)


def _np_binary(fn):
    return lambda n, vals, sizes: fn(vals[0], vals[1])


# ---- + and - -------------------------------------------------------------------------------
def _print_add(n, P):
    a, b = n.args
    return P.operand(a, n.shape, ADD) + P.tok("add") + P.operand(b, n.shape, NEG + 1), ADD


def _print_sub(n, P):
    a, b = n.args
    return P.operand(a, n.shape, ADD) + P.tok("sub") + P.operand(b, n.shape, NEG + 1), ADD


def _print_neg(n, P):
    s = P.arg(n.args[0], HAD)
    if s.startswith("-"):
        s = P.paren(s)
    return "-" + s, NEG


ADD_OP = register(Op("add", shape=_bshape("add"), vjp=lambda n, g, needs: (g, g),
                     print=_print_add, numpy=_np_binary(np.add), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a + b)))
SUB_OP = register(Op("sub", shape=_bshape("subtract"), vjp=lambda n, g, needs: (g, neg(g)),
                     print=_print_sub, numpy=_np_binary(np.subtract), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a - b)))
NEG_OP = register(Op("neg", shape=lambda args, params: args[0].shape,
                     vjp=lambda n, g, needs: (neg(g),), print=_print_neg,
                     numpy=lambda n, vals, sizes: np.negative(vals[0]), linear=True,
                     cases=lambda: [(lambda a: -a, [(s, "any")]) for s in TEST_SHAPES]))


def add(a, b) -> Node:
    return Node(ADD_OP, (core.as_node(a), core.as_node(b)))


def sub(a, b) -> Node:
    return Node(SUB_OP, (core.as_node(a), core.as_node(b)))


def neg(a) -> Node:
    return Node(NEG_OP, (core.as_node(a),))


# ---- * and / (Hadamard) --------------------------------------------------------------------
def _print_mul(n, P):
    a, b = n.args
    if a.ndim == 0 or b.ndim == 0:  # a scalar times something: juxtaposition, scalar first
        s, m = (a, b) if a.ndim == 0 else (b, a)
        return P.juxt(P.arg(s, PROD), P.operand(m, n.shape, PROD)), PROD
    # Products inside ⊙ get parentheses: (Y 1 1ᵀ) ⊙ S, not Y 1 1ᵀ ⊙ S.
    chain = a.op is n.op and a.args[0].ndim and a.args[1].ndim
    return (P.operand(a, n.shape, HAD if chain else PROD + 1) + P.tok("had")
            + P.operand(b, n.shape, PROD + 1)), HAD


def _print_div(n, P):
    a, b = n.args
    if b.ndim == 0:
        return P.frac(a, b, n.shape)
    return (P.operand(a, n.shape, PROD + 1) + P.tok("hdiv")
            + P.operand(b, n.shape, PROD + 1)), HAD


def _vjp_div(n, g, needs):
    a, b = n.args
    return (div(g, b) if needs[0] else None,
            neg(div(mul(g, n), b)) if needs[1] else None)


MUL_OP = register(Op("mul", shape=_bshape("multiply"),
                     vjp=lambda n, g, needs: (mul(g, n.args[1]), mul(g, n.args[0])),
                     print=_print_mul, numpy=_np_binary(np.multiply), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a * b)))
DIV_OP = register(Op("div", shape=_bshape("divide"), vjp=_vjp_div, print=_print_div,
                     numpy=_np_binary(np.divide), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a / b, "any", "nonzero")))


def mul(a, b) -> Node:
    return Node(MUL_OP, (core.as_node(a), core.as_node(b)))


def div(a, b) -> Node:
    return Node(DIV_OP, (core.as_node(a), core.as_node(b)))


# ---- ** (elementwise power) ------------------------------------------------------------------
def _print_pow(n, P):
    a, p = n.args
    return P.power(a, p, elementwise=n.ndim > 0)


def _vjp_pow(n, g, needs):
    from .elementwise import log

    a, p = n.args
    da = mul(g, mul(p, pow(a, sub(p, 1)))) if needs[0] else None
    dp = mul(g, mul(log(a), n)) if needs[1] else None
    return da, dp


def _pow_cases():
    out = [(lambda a: a ** 2, [(s, "any")]) for s in TEST_SHAPES]
    out += [(lambda a: a ** 3, [((3, 4), "any")]), (lambda a: a ** -1, [((3, 4), "nonzero")]),
            (lambda a: a ** 0.5, [((3, 1), "positive")])]
    out += [(lambda a, b: a ** b, [(x, "positive"), (y, "any")]) for x, y in _pairs()]
    return out


POW_OP = register(Op("pow", shape=_bshape("raise"), vjp=_vjp_pow, print=_print_pow,
                     numpy=_np_binary(np.power), explicit=_explicit_binary, cases=_pow_cases))


def pow(a, p) -> Node:  # noqa: A001 -- mirrors operator.pow
    return Node(POW_OP, (core.as_node(a), core.as_node(p)))

