"""Elementwise arithmetic with NumPy broadcasting: + - * / ** and negation."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..node import Node, shape_error
from ..op import ADD, HAD, NEG, PROD, Op, later, provide, register, rule
from ..shapes import broadcast_shapes
from . import core
from .shape import BROADCAST, broadcast_to, explicit_broadcast, implicit_operands, reshape

# Every broadcasting pair of the test shapes (), (4,), (3,4), (1,4), (3,1).
TEST_SHAPES = [(), (4,), (3, 4), (1, 4), (3, 1)]


# Beyond matrices: the rank-3 and rank-4 sets of the tensor tests (pairs with a result of at
# least three axes; the others are the cases above).
TENSOR_SHAPES = [(2, 3, 4), (3, 4), (1, 3, 1), (2, 1, 4), ()]
TENSOR_SHAPES_4 = [(2, 1, 3, 4), (2, 3, 1), (1, 1, 1, 4), ()]


def _pairs(shapes=None):
    out = []
    for a in shapes or TEST_SHAPES:
        for b in shapes or TEST_SHAPES:
            try:
                broadcast_shapes(a, b)
            except ShapeError:
                continue
            out.append((a, b))
    return out


def _binary_cases(fn, da="any", db="any"):
    return lambda: [(fn, [(a, da), (b, db)]) for a, b in _pairs()]


def tensor_pairs() -> list[tuple]:
    """Pairs of the tensor shape sets that broadcast to three or more axes."""
    return [(a, b) for s in (TENSOR_SHAPES, TENSOR_SHAPES_4) for a, b in _pairs(s)
            if max(len(a), len(b)) >= 3]


def tensor_shapes() -> list[tuple]:
    return [s for s in TENSOR_SHAPES + TENSOR_SHAPES_4 if len(s) >= 3]


def _binary_tensor_cases(fn, da="any", db="any"):
    return lambda: [(fn, [(a, da), (b, db)]) for a, b in tensor_pairs()]


def _bshape(verb):
    def shape(args, params):
        a, b = args
        try:
            return broadcast_shapes(a.shape, b.shape)
        except ShapeError:
            raise shape_error(verb, a, b, "shapes do not broadcast" + _column_hint(a, b)) \
                from None

    return shape


def _column_hint(a: Node, b: Node) -> str:
    """The founding case, W X + b with b declared (n,) beside an (n, k) matrix: NumPy aligns
    trailing axes, so the bias must be the column (n, 1) to broadcast across the k columns."""
    for m, v in ((a, b), (b, a)):
        if m.ndim == 2 and v.ndim == 1 and v.shape[0] == m.shape[0] != m.shape[1]:
            n, k = m.shape
            what = v.params[0] if v.op is core.VAR else "the vector"
            return (f"; did you mean {what}: {n}×1 (a column broadcast across the {k} "
                    f"columns)?")
    return ""


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


# Matrix forms for Jacobians (Op.matrix_form): M with vec(n) = M vec(u), in the reader R's
# vec algebra; a node affine but not linear in u has none.
def _mf_neg(R, n: Node) -> Node:
    return neg(R.of(n.args[0]))


def _mf_addsub(R, n: Node) -> Node:
    parts = []
    for a, d in zip(n.args, R.deps(n)):
        if d:
            parts.append(R.apply(R.bcast_map(a.shape, n.shape), R.of(a)))
        elif core.is_zero(a):
            parts.append(None)
        else:
            raise R.not_linear(n)  # affine, not linear
    a, b = parts
    if b is None:
        return a
    if a is None:
        return neg(b) if n.op is SUB_OP else b
    return add(a, b) if n.op is ADD_OP else sub(a, b)

ADD_OP = register(Op("add", shape=_bshape("add"),
                     symmetric="closed", vjp=lambda n, g, needs: (g, g),
                     algebra="add", matrix_form=_mf_addsub,
                     print=_print_add, numpy=_np_binary(np.add), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a + b),
                     tensor_cases=_binary_tensor_cases(lambda a, b: a + b),
                     code=_code_binary("+", "ADD", "{0}_plus_{1}", 0)))
SUB_OP = register(Op("sub", shape=_bshape("subtract"),
                     symmetric="closed", vjp=lambda n, g, needs: (g, neg(g)),
                     algebra="sub", matrix_form=_mf_addsub,
                     print=_print_sub, numpy=_np_binary(np.subtract), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a - b),
                     tensor_cases=_binary_tensor_cases(lambda a, b: a - b),
                     code=_code_binary("-", "ADD", "{0}_minus_{1}")))
NEG_OP = register(Op("neg", shape=lambda args, params: args[0].shape, algebra="neg",
                     symmetric="closed",
                     matrix_form=_mf_neg,
                     vjp=lambda n, g, needs: (neg(g),), print=_print_neg,
                     numpy=lambda n, vals, sizes: np.negative(vals[0]), linear=True,
                     cases=lambda: [(lambda a: -a, [(s, "any")]) for s in TEST_SHAPES],
                     tensor_cases=lambda: [(lambda a: -a, [(s, "any")]) for s in tensor_shapes()],
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
    return (P.operand(a, n.shape, HAD if chain else PROD + 1) + P.pick(r" \odot ", " ⊙ ")
            + P.operand(b, n.shape, PROD + 1)), HAD


def _print_div(n, P):
    a, b = n.args
    if b.ndim == 0:
        return P.frac(a, b, n.shape)
    return (P.operand(a, n.shape, PROD + 1) + P.pick(r" \oslash ", " ⊘ ")
            + P.operand(b, n.shape, PROD + 1)), HAD


def _vjp_div(n, g, needs):
    a, b = n.args
    return (div(g, b) if needs[0] else None,
            neg(div(mul(g, n), b)) if needs[1] else None)


def _factors(R, n: Node) -> tuple[list[Node], Node]:
    """A Hadamard chain as (constant factors, the one factor depending on u)."""
    consts, dep, stack = [], [], [n]
    while stack:
        e = stack.pop()
        if e.op is MUL_OP and e in R.dep:
            stack += list(e.args)
        elif e.op is DIV_OP and e in R.dep:
            if e.args[1] in R.dep:
                raise R.not_linear(n)
            stack.append(e.args[0])
            consts.append(div(1, e.args[1]))
        elif e in R.dep:
            dep.append(e)
        else:
            consts.append(e)
    if len(dep) != 1:
        raise R.not_linear(n)
    return consts, dep[0]


def _scalar_like(c: Node) -> Node | None:
    """c as a scalar when it has one entry (a keepdims sum, a (1,) vector), else None."""
    if c.ndim == 0:
        return c
    if all(s == 1 for s in c.shape):
        return reshape(c, ())
    if c.op is BROADCAST and all(s == 1 for s in c.args[0].shape):
        return reshape(c.args[0], ())
    return None


def _mf_hadamard(R, n: Node) -> Node:  # e ⊙ v -> diag(v) M(e); division is by a constant
    consts, d = _factors(R, n)
    scalars, arrays = [], []
    for c in consts:
        s = _scalar_like(c)
        (scalars if s is not None else arrays).append(s if s is not None else c)
    md = R.of(d)
    if arrays:
        c = arrays[0]
        for a in arrays[1:]:
            c = mul(c, a)
        c = broadcast_to(c, n.shape)
        if all(s == 1 for s in d.shape) or d.ndim == 0:  # a spread value times c: c ⊗ row
            m = R.mm(R.col(c), md)
        else:
            m = R.mm(R.diag(c if c.ndim == 1 else R.vec(c)),
                     R.apply(R.bcast_map(d.shape, n.shape), md))
    else:
        m = R.apply(R.bcast_map(d.shape, n.shape), md)
    for s in scalars:
        m = mul(s, m)
    return m

MUL_OP = register(Op("mul", shape=_bshape("multiply"),
                     symmetric="closed", matrix_form=_mf_hadamard,
                     algebra="mul",
                     vjp=lambda n, g, needs: (mul(g, n.args[1]), mul(g, n.args[0])),
                     print=_print_mul, numpy=_np_binary(np.multiply), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a * b),
                     tensor_cases=_binary_tensor_cases(lambda a, b: a * b),
                     code=_code_binary("*", "MUL", "{0}_times_{1}", 1)))
DIV_OP = register(Op("div", shape=_bshape("divide"),
                     symmetric="closed", vjp=_vjp_div, print=_print_div,
                     algebra="div", matrix_form=_mf_hadamard,
                     numpy=_np_binary(np.divide), explicit=_explicit_binary,
                     cases=_binary_cases(lambda a, b: a / b, "any", "nonzero"),
                     tensor_cases=_binary_tensor_cases(lambda a, b: a / b, "any", "nonzero"),
                     code=_code_binary("/", "MUL", "{0}_over_{1}")))


def _one_plus_exp(f: Node) -> Node | None:
    """u when f is 1 + e^u."""
    t = later.terms(f)
    if len(t) != 2 or t.get(()) != 1:
        return None
    ((m, c),) = [(m, c) for m, c in t.items() if m]
    if c == 1 and len(m) == 1 and m[0][1] == 1 and m[0][0].op.name == "exp":
        return m[0][0].args[0]
    return None


@rule(DIV_OP, "logistic-quotient")
def _logistic(n):
    """e^u / (1 + e^u) = σ(u) and 1 / (1 + e^u) = σ(-u) (then 1 - σ(u), by sigmoid-odd).
    Measure: one factor 1 + e^u fewer in the denominator; no rule writes one."""
    if n.ndim == 0:  # scalars are SymPy's: no matrix factors to read
        return None
    t = later.terms(n)
    if len(t) != 1:
        return None
    ((mono, coeff),) = t.items()
    exps = dict(mono)
    for f, k in mono:
        u = _one_plus_exp(f) if k < 0 else None
        if u is None:
            continue
        e = next((g for g in exps if g.op.name == "exp" and g.args[0] is u), None)
        p = min(exps.get(e, 0), -k) if e is not None else 0
        del exps[f]
        if p:
            exps[e] -= p
            s = later.sigmoid(u)
            exps[s] = exps.get(s, 0) + p
        if -k - p:
            minus_u = later.rebuild({m: -c for m, c in later.terms(u).items()}, u.shape)
            s = later.sigmoid(minus_u)
            exps[s] = exps.get(s, 0) - k - p
        new = tuple(sorted(((g, x) for g, x in exps.items() if x), key=lambda fe: fe[0].sort_key))
        return later.rebuild({new: coeff}, n.shape)
    return None


def _negated(u: Node, v: Node) -> bool:
    tu, tv = later.terms(u), later.terms(v)
    return len(tu) == len(tv) and all(tv.get(m) == -c for m, c in tu.items())


@rule(MUL_OP, "logistic-product")
def _logistic_product(n):
    """e^u ⊙ σ(-u) = σ(u), σ(-u) written as σ(t) for t = -u or as 1 - σ(u) (sigmoid-odd):
    e^u (1 - σ(u)) = σ(u), e^{-z} σ(z) = 1 - σ(z). Measure: one exp factor fewer."""
    fs = [f for f, _ in later.factors(n)] if n.ndim else []
    if not any(f.op.name == "exp" for f in fs) or not any(
            f.op.name == "sigmoid" or f.op.algebra == "sub" for f in fs):
        return None
    t = later.open_terms(n)
    if len(t) != 1:
        return None
    ((mono, coeff),) = t.items()
    exps = [f for f, e in mono if e > 0 and f.op.name == "exp"]
    if not exps:
        return None
    for f, e in mono:
        if e <= 0:
            continue
        if f.op.name == "sigmoid":  # σ(t) with t = -u
            u = next((x for x in exps if _negated(x.args[0], f.args[0])), None)
            res = None if u is None else later.sigmoid(u.args[0])
        else:  # 1 - σ(u)
            ts = later.terms(f) if f.op.algebra == "sub" else {}
            sig = [m[0][0] for m, c in ts.items() if len(m) == 1 and m[0][1] == 1 and c == -1
                   and m[0][0].op.name == "sigmoid"]
            if len(ts) != 2 or ts.get(()) != 1 or not sig:
                continue
            u = next((x for x in exps if x.args[0] is sig[0].args[0]), None)
            res = sig[0]
        if u is None:
            continue
        new = dict(mono)
        for g in (f, u):
            new[g] -= 1
        new[res] = new.get(res, 0) + 1
        m = tuple(sorted(((g, x) for g, x in new.items() if x), key=lambda fe: fe[0].sort_key))
        return later.rebuild({m: coeff}, n.shape)
    return None


def mul(a, b) -> Node:
    return Node(MUL_OP, (core.as_node(a), core.as_node(b)))


def div(a, b) -> Node:
    return Node(DIV_OP, (core.as_node(a), core.as_node(b)))


# ---- ** (elementwise power) ------------------------------------------------------------------
def _print_pow(n, P):
    a, p = n.args
    return P.power(a, p, elementwise=n.ndim > 0, value=core.const_value(p))


def _vjp_pow(n, g, needs):
    a, p = n.args
    da = mul(g, mul(p, pow(a, sub(p, 1)))) if needs[0] else None
    dp = mul(g, mul(later.log(a), n)) if needs[1] else None
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


def _mf_pow(R, n: Node) -> Node:  # linear only as e^1
    a, p = n.args
    if p in R.dep or not core.is_number(p, 1):
        raise R.not_linear(n)
    return R.apply(R.bcast_map(a.shape, n.shape), R.of(a))

POW_OP = register(Op("pow", shape=_bshape("raise"), vjp=_vjp_pow, print=_print_pow,
                     algebra="pow", matrix_form=_mf_pow,
                     numpy=_np_binary(np.power), explicit=_explicit_binary, cases=_pow_cases,
                     tensor_cases=_binary_tensor_cases(lambda a, b: a ** b, "positive"),
                     code=_code_pow))


def pow(a, p) -> Node:  # noqa: A001 -- mirrors operator.pow
    return Node(POW_OP, (core.as_node(a), core.as_node(p)))


provide(add=add, sub=sub, mul=mul, div=div, neg=neg, pow=pow)
