"""Elementwise arithmetic with NumPy broadcasting: + - * / ** and negation."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..node import Node, shape_error
from ..op import ADD, HAD, NEG, PROD, Op, register
from ..shapes import broadcast_shapes
from . import core
from .shape import explicit_broadcast, implicit_operands

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


def _code_binary(sym: str, prec: str, hint: str, unit=None):
    """x + y with Python's precedence; broadcast operands are left to implicit broadcasting,
    and a unit (0 for +, 1 for *) beside an operand of the full shape is dropped."""

    def code(n, args, B):
        x, y = n.args
        if unit is not None and core.is_number(x, unit) and y.shape == n.shape:
            return y
        if unit is not None and core.is_number(y, unit) and x.shape == n.shape:
            return x
        a, b = implicit_operands(n, args, B)
        p = getattr(B, prec)
        return B.code(f"{a.at(p)} {sym} {b.at(p + 1)}", p, hint)

    return code


# ---- + and - -------------------------------------------------------------------------------
def _print_add(n, P):
    a, b = n.args
    return (P.operand(a, n.shape, ADD, True) + P.sum_sign(n, "add")
            + P.operand(b, n.shape, NEG + 1, True)), ADD


def _print_sub(n, P):
    a, b = n.args
    return (P.operand(a, n.shape, ADD, True) + P.sum_sign(n, "sub")
            + P.operand(b, n.shape, NEG + 1, True)), ADD


def _print_neg(n, P):
    s = P.arg(n.args[0], HAD)
    if s.startswith("-"):
        s = P.paren(s)
    return "-" + s, NEG


ADD_OP = register(Op("add", shape=_bshape("add"), vjp=lambda n, g, needs: (g, g),
                     print=_print_add, numpy=_np_binary(np.add), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a + b),
                     code=_code_binary("+", "ADD", "{0}_plus_{1}", 0)))
SUB_OP = register(Op("sub", shape=_bshape("subtract"), vjp=lambda n, g, needs: (g, neg(g)),
                     print=_print_sub, numpy=_np_binary(np.subtract), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a - b),
                     code=_code_binary("-", "ADD", "{0}_minus_{1}")))
NEG_OP = register(Op("neg", shape=lambda args, params: args[0].shape,
                     vjp=lambda n, g, needs: (neg(g),), print=_print_neg,
                     numpy=lambda n, vals, sizes: np.negative(vals[0]), linear=True,
                     cases=lambda: [(lambda a: -a, [(s, "any")]) for s in TEST_SHAPES],
                     code=lambda n, a, B: B.code(f"-{a[0].at(B.UNARY + 1)}", B.UNARY,
                                                 "neg_{0}")))


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
        v = core.const_value(s)
        if v == 1:  # 1.0 * x is x, as written by hand
            return P.fmt(m) if m.shape == n.shape else P.fmt(explicit_broadcast(m, n.shape))
        if v is not None and v.is_Number and v < 0:  # -\frac{1}{2} x, not (-\frac{1}{2}) x
            return "-" + P.juxt(P.arg(core.number(-v), PROD), P.operand(m, n.shape, PROD)), NEG
        # An inner product as a factor gets parentheses: (1ᵀy) (D - s sᵀ), not 1ᵀ y (D - s sᵀ).
        inner = s.op is not n.op and s.op is not core.NUMBER and P.fmt(s)[1] == PROD
        return P.juxt(P.arg(s, PROD + inner), P.operand(m, n.shape, PROD)), PROD
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
                     cases=_binary_cases(lambda a, b: a * b),
                     code=_code_binary("*", "MUL", "{0}_times_{1}", 1)))
DIV_OP = register(Op("div", shape=_bshape("divide"), vjp=_vjp_div, print=_print_div,
                     numpy=_np_binary(np.divide), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a / b, "any", "nonzero"),
                     code=_code_binary("/", "MUL", "{0}_over_{1}")))


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


def _code_pow(n, args, B):
    a, p = implicit_operands(n, args, B)
    hint = "{0}_sq" if core.is_number(n.args[1], 2) else "{0}_pow"
    return B.code(f"{a.at(B.ATOM)} ** {p.at(B.UNARY)}", B.POW, hint)


POW_OP = register(Op("pow", shape=_bshape("raise"), vjp=_vjp_pow, print=_print_pow,
                     numpy=_np_binary(np.power), explicit=_explicit_binary, cases=_pow_cases,
                     code=_code_pow))


def pow(a, p) -> Node:  # noqa: A001 -- mirrors operator.pow
    return Node(POW_OP, (core.as_node(a), core.as_node(p)))

