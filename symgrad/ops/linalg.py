"""Linear algebra: matmul (NumPy rules, 1-D operands included), outer, trace, inv, det, logdet,
diag, norm."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..node import Node, describe, shape_error
from ..op import ATOM, PROD, Op, Spelling, later, provide, register, rule
from ..shapes import broadcast_shapes
from . import core
from .arith import MUL_OP, div, mul, neg
from .reduce import sum_
from .shape import T, broadcast_to, is_symmetric_expr, reshape, transpose


# ---- matmul --------------------------------------------------------------------------------
def _mm_shape(args, params):
    a, b = args
    if a.ndim == 0 or b.ndim == 0:
        raise shape_error("matmul", a, b, "matmul needs vectors or matrices; use * for scalars")
    k1 = a.shape[-1]
    k2 = b.shape[0]
    if k1 != k2:
        raise shape_error("matmul", a, b, f"inner sizes {k1} and {k2} differ")
    return a.shape[:-1] + b.shape[1:]


def _vjp_matmul(n, g, needs):
    a, b = n.args
    if a.ndim == 2 and b.ndim == 2:
        return matmul(g, transpose(b)), matmul(transpose(a), g)
    if a.ndim == 1 and b.ndim == 2:  # xᵀ B
        return matmul(b, g), outer(a, g)
    if a.ndim == 2 and b.ndim == 1:  # A y
        return outer(g, b), matmul(transpose(a), g)
    return mul(g, b), mul(g, a)  # xᵀ y


def _print_matmul(n, P):
    a, b = n.args
    if a.ndim == 1 and b.ndim == 2:  # a 1-D vector is a column: x @ B is Bᵀ x
        return P.fmt(as_column(n))
    left = P.transpose(a)[0] if a.ndim == 1 else P.arg(a, PROD)
    return P.juxt(left, P.arg(b, PROD)), PROD


def as_column(n: Node) -> Node:
    """x @ B (x 1-D) as the column Bᵀ x; the printer's row of it is xᵀ B (Printer.transpose)."""
    x, b = n.args
    return matmul(b.args[0] if b.op is T else transpose(b), x)


def _inverse_of(h):
    """(A, transposed) when h is an inverse A⁻¹ or A⁻ᵀ that nothing else needs, else None."""
    t = h.node.op is T
    inner = h.args[0] if t else h
    if inner.node.op is not INV or h.shared or inner.shared:
        return None
    return inner.args[0], t


def _code_matmul(n, args, B):
    """x @ y, as an expert writes it: identities vanish, ones vectors are sums or
    broadcasts, diag(v) A is v[:, None] * A, and inv(A) @ B is solve(A, B)."""
    x, y = args
    a, b = n.args
    if a.op is core.EYE:
        return b
    if b.op is core.EYE:
        return a
    for s, other in ((a, b), (b, a)):  # (s I) B = s B
        if s.op is MUL_OP and any(e.op is core.EYE for e in s.args):
            scalar = [e for e in s.args if e.op is not core.EYE]
            if scalar and scalar[0].ndim == 0:
                return mul(scalar[0], other)
    for rule_ in (_mm_zero, _mm_ones, _mm_ones_sum, _mm_ones_bcast):
        r = rule_(n)
        if r is not None:
            return r
    if a.op is core.ONES:  # 1_m 1_nᵀ G: the column sums, broadcast down m rows
        return broadcast_to(sum_(b, 0, keepdims=b.ndim == 2), n.shape)
    if b.op is core.ONES:
        return broadcast_to(sum_(a, a.ndim - 1, keepdims=a.ndim == 2), n.shape)
    if a.op is DIAG and a.args[0].ndim == 1:  # rows scaled: v[:, None] * B
        v = a.args[0]
        return mul(reshape(v, (v.shape[0], 1)) if b.ndim == 2 else v, b)
    if b.op is DIAG and b.args[0].ndim == 1:  # columns scaled: A * v
        return mul(a, b.args[0])
    solve = B.linalg("solve")
    inv_left = _inverse_of(x)
    if inv_left:  # A⁻¹ y = solve(A, y); A⁻ᵀ y = solve(Aᵀ, y)
        A, t = inv_left
        return B.code(f"{solve}({B.arg(transpose(A.node)) if t else A}, {y})", hint="solve_{1}")
    inv_right = _inverse_of(y)
    if inv_right:  # x A⁻¹ = (A⁻ᵀ xᵀ)ᵀ = solve(Aᵀ, xᵀ)ᵀ
        A, t = inv_right
        lhs = A if t else B.arg(transpose(A.node))
        if x.ndim == 1:
            return B.code(f"{solve}({lhs}, {x})", hint="solve_{0}")
        return B.code(f"{solve}({lhs}, {B.arg(transpose(a))}).T", hint="solve_{0}")
    return B.code(f"{x.at(B.UNARY, (B.MATMUL,))} @ {y.at(B.UNARY)}", B.MATMUL, "{0}{1}")


def _mf_matmul(R, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if da:  # vec(E B) = (Bᵀ ⊗ I) vec(E)
        if a.ndim == 1:
            return R.mm(transpose(b), R.of(a))
        left = R.kron(transpose(b) if b.ndim == 2 else R.row(b), R.eye(a.shape[0]))
        return R.mm(left, R.of(a))
    if b.ndim == 1:  # vec(A E) = (I ⊗ A) vec(E)
        return R.mm(a if a.ndim == 2 else R.row(a), R.of(b))
    return R.mm(R.kron(R.eye(b.shape[1]), a if a.ndim == 2 else R.row(a)), R.of(b))

def _entry_matmul(n: Node, E, idx):  # (A B)_{ij} = sum_l A_{il} B_{lj}
    a, b = n.args
    k = a.shape[-1]
    c = "1" if k == 1 else E.fresh(k)
    ia = (idx[0], c) if a.ndim == 2 else (c,)
    ib = (c, idx[-1]) if b.ndim == 2 else (c,)
    return E.summed([c] if k != 1 else [], E.product([E.entry(a, ia), E.entry(b, ib)]))


def _print_matmul_t(n, P):  # x @ A prints as the column Aᵀ x; its row is xᵀ A
    if n.ndim == 1 and n.args[0].ndim == 1:
        return P.juxt(P.transpose(n.args[0])[0], P.arg(n.args[1], PROD)), PROD
    return None


def _transposes(p: Node, q: Node) -> bool:
    return (p.op is T and p.args[0] is q) or (q.op is T and q.args[0] is p)


def _mm_symmetric(n: Node) -> bool:
    """Pᵀ P and P Pᵀ (Gram matrices), Pᵀ (D P) and (P D) Pᵀ for a symmetric D: symmetric."""
    a, b = n.args
    if n.ndim != 2 or a.ndim != 2 or b.ndim != 2:
        return False
    if _transposes(a, b):
        return True
    for outer_, inner, left in ((a, b, True), (b, a, False)):  # the sandwich, either grouping
        if inner.op is MATMUL and inner.args[0].ndim == 2 and inner.args[1].ndim == 2:
            d, p = inner.args if left else inner.args[::-1]
            if _transposes(outer_, p) and is_symmetric_expr(d):
                return True
    return False

MATMUL = register(Op(
    "matmul", shape=_mm_shape, print_transposed=_print_matmul_t, matrix_form=_mf_matmul,
    entry=_entry_matmul,
    batch=lambda n, args, deps, lead: later.batched_einsum(
        ("mk" if n.args[0].ndim == 2 else "k", "kn" if n.args[1].ndim == 2 else "k"),
        ("m" if n.args[0].ndim == 2 else "") + ("n" if n.args[1].ndim == 2 else ""),
        args, deps, lead),
    bilinear=True, symmetric=_mm_symmetric,
    vjp=_vjp_matmul, print=_print_matmul,
    numpy=lambda n, vals, sizes: np.matmul(vals[0], vals[1]),
    cases=lambda: [(lambda a, b: matmul(a, b), [(sa, "any"), (sb, "any")]) for sa, sb in [
        ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((3, 1), (1, 4)),
        ((1, 4), (4, 1))]],
    code=_code_matmul,
))


def matmul(a, b) -> Node:
    """a @ b with NumPy's rules; with three or more axes, a batched product over the leading
    axes (broadcast as NumPy broadcasts them), written as the einsum it is."""
    a, b = core.as_node(a), core.as_node(b)
    if a.ndim > 2 or b.ndim > 2:
        return _batched(a, b)
    return Node(MATMUL, (a, b))


def _batched(a: Node, b: Node) -> Node:
    if a.ndim == 0 or b.ndim == 0:
        raise shape_error("matmul", a, b, "matmul needs vectors or matrices; use * for scalars")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise shape_error("matmul", a, b, f"inner sizes {a.shape[-1]} and "
                          f"{b.shape[-2 if b.ndim > 1 else 0]} differ")
    try:
        batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ShapeError:
        raise shape_error("matmul", a, b, "the batch axes do not broadcast") from None
    letters = "abcdefgh"[:len(batch)]
    terms, ops = [], []
    for x, mat in ((a, "mk" if a.ndim > 1 else "k"), (b, "kn" if b.ndim > 1 else "k")):
        own = x.shape[:-2] if x.ndim > 2 else ()
        lead = len(batch) - len(own)
        # A unit batch axis facing a longer one is broadcast: drop it, and the einsum spreads x.
        keep = [i for i, s in enumerate(own) if not (s == 1 and batch[lead + i] != 1)]
        if len(keep) < len(own):
            x = reshape(x, tuple(own[i] for i in keep) + x.shape[len(own):])
        terms.append("".join(letters[lead + i] for i in keep) + mat)
        ops.append(x)
    out = letters + ("m" if a.ndim > 1 else "") + ("n" if b.ndim > 1 else "")
    return later.einsum(f"{terms[0]},{terms[1]}->{out}", *ops)


@rule(MATMUL, "matmul-zero")
def _mm_zero(n):
    a, b = n.args
    return core.zeros(*n.shape) if core.is_zero(a) or core.is_zero(b) else None


@rule(MATMUL, "matmul-identity")
def _mm_eye(n):
    a, b = n.args
    if a.op is core.EYE:
        return b
    if b.op is core.EYE:
        return a
    return None


@rule(MATMUL, "ones-inner-product")
def _mm_ones(n):  # 1ₙᵀ 1ₙ = n, and products of ones blocks
    a, b = n.args
    if a.op is core.ONES and b.op is core.ONES:
        return mul(core.number(a.shape[-1]), core.ones(*n.shape))
    return None


@rule(MATMUL, "ones-as-sum")
def _mm_ones_sum(n):  # G 1 and 1ᵀ G are row and column sums: the canonical form is sum()
    a, b = n.args
    if b.op is core.ONES and (b.ndim == 1 or b.shape[1] == 1):
        return sum_(a, a.ndim - 1, keepdims=b.ndim == 2) if a.op is not core.ONES else None
    if a.op is core.ONES and (a.ndim == 1 or a.shape[0] == 1) and b.op is not core.ONES:
        return sum_(b, 0, keepdims=a.ndim == 2)
    return None


@rule(MATMUL, "ones-as-broadcast")
def _mm_ones_bcast(n):  # b 1ᵀ and 1 cᵀ are broadcasts
    a, b = n.args
    if b.op is core.ONES and b.ndim == 2 and b.shape[0] == 1 and a.ndim == 2:
        return broadcast_to(a, n.shape) if a.shape[1] == 1 else None
    if a.op is core.ONES and a.ndim == 2 and a.shape[1] == 1 and b.ndim == 2:
        return broadcast_to(b, n.shape) if b.shape[0] == 1 else None
    return None


@rule(MATMUL, "matmul-sandwich")
def _mm_sandwich(n):  # (Pᵀ D) P = Pᵀ (D P): one association, so Pᵀ D P reads as symmetric
    a, c = n.args
    if a.op is not MATMUL or c.ndim != 2 or a.args[0].ndim != 2 or a.args[1].ndim != 2:
        return None
    p, d = a.args
    if (p.op is T and p.args[0] is c) or (c.op is T and c.args[0] is p):
        return matmul(p, matmul(d, c))
    return None


@rule(MATMUL, "vector-is-a-column")
def _mm_column(n):  # x @ B = Bᵀ x: one orientation for 1-D vectors, so equal terms collect
    return as_column(n) if n.args[0].ndim == 1 and n.args[1].ndim == 2 else None


# ---- outer ---------------------------------------------------------------------------------
def _outer_shape(args, params):
    a, b = args
    if a.ndim != 1 or b.ndim != 1:
        raise shape_error("take the outer product of", a, b, "outer needs two 1-D vectors")
    return (a.shape[0], b.shape[0])


def _print_outer(n, P):
    a, b = n.args
    return P.juxt(P.arg(a, PROD), P.transpose(b)[0]), PROD


def _mf_outer(R, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if da:  # vec(e bᵀ) = (b ⊗ I) e
        return R.mm(R.kron(R.col(b), R.eye(a.shape[0])), R.of(a))
    return R.mm(R.kron(R.eye(b.shape[0]), R.col(a)), R.of(b))  # vec(a eᵀ) = (I ⊗ a) e

OUTER = register(Op(
    "outer", shape=_outer_shape, matrix_form=_mf_outer, bilinear=True,
    symmetric=lambda n: n.args[0] is n.args[1],  # x xᵀ
    batch=lambda n, args, deps, lead: later.batched_einsum(("i", "j"), "ij", args, deps, lead),
    vjp=lambda n, g, needs: (matmul(g, n.args[1]), matmul(transpose(g), n.args[0])),
    print=_print_outer, numpy=lambda n, vals, sizes: np.outer(vals[0], vals[1]),
    entry=lambda n, E, idx: E.product([E.entry(n.args[0], idx[:1]),  # (a b^T)_{ij} = a_i b_j
                                       E.entry(n.args[1], idx[1:])]),
    cases=lambda: [(lambda a, b: outer(a, b), [((3,), "any"), ((4,), "any")])],
    code=lambda n, a, B: B.code(f"{B.fn('outer')}({a[0]}, {a[1]})", hint="{0}{1}T"),
))


def outer(a, b) -> Node:
    """a bᵀ for 1-D vectors a and b."""
    return Node(OUTER, (core.as_node(a), core.as_node(b)))


@rule(OUTER, "outer-zero")
def _outer_zero(n):
    return core.zeros(*n.shape) if any(core.is_zero(a) for a in n.args) else None


# ---- square-matrix functions ------------------------------------------------------------------
def _square(what):
    def shape(args, params):
        (a,) = args
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ShapeError(f"{what} needs a square matrix, got {describe(a)}")
        return params[0] if params else ()

    return shape


def _square_cases(fn, domain):
    return lambda: [(fn, [((3, 3), domain)]), (fn, [((1, 1), domain)])]


def _print_spelled(n, P):
    return P.spelled(n), ATOM


def _code_trace(n, args, B):
    """tr(A B) = sum(A ⊙ Bᵀ): O(n²) instead of the product's O(n³)."""
    a = n.args[0]
    if a.op is MATMUL and a.args[0].ndim == 2 and not args[0].shared:
        return sum_(mul(a.args[0], transpose(a.args[1])))
    return f"{B.fn('trace')}({args[0]})"


def _mf_trace(R, n: Node) -> Node:  # tr E = vec(I)ᵀ vec(E)
    return R.mm(R.row(R.eye(n.args[0].shape[0])), R.of(n.args[0]))


TRACE = register(Op(
    "trace", shape=_square("trace"),
    vjp=lambda n, g, needs: (mul(g, core.eye(n.args[0].shape[0])),),
    print=_print_spelled, matrix_form=_mf_trace,
    spelling=Spelling(r"\operatorname{tr}", "tr", ("tr", "Tr", "trace")),
    numpy=lambda n, vals, sizes: np.trace(vals[0]), linear=True,
    cases=_square_cases(lambda a: trace(a), "any"),
    code=_code_trace,
))


def trace(x) -> Node:
    return Node(TRACE, (core.as_node(x),))


@rule(TRACE, "trace-constant")
def _tr_const(n):
    a = n.args[0]
    if a.op is core.EYE:
        return core.number(a.shape[0])
    if a.op is core.ZEROS:
        return core.number(0)
    return None


@rule(TRACE, "trace-transpose")
def _tr_t(n):
    a = n.args[0]
    return trace(a.args[0]) if a.op is T else None


def _vjp_inv(n, g, needs):
    it = transpose(n)
    return (neg(matmul(matmul(it, g), it)),)


INV = register(Op(
    "inv", shape=lambda args, params: _square("inv")(args, (args[0].shape,)),
    symmetric="closed",
    print_transposed=lambda n, P: P.inverse(n.args[0], transposed=True),
    vjp=_vjp_inv, print=lambda n, P: P.inverse(n.args[0], transposed=False),
    numpy=lambda n, vals, sizes: np.linalg.inv(vals[0]),
    cases=_square_cases(lambda a: inv(a), "invertible"),
    code=lambda n, a, B: B.code(f"{B.linalg('inv')}({a[0]})", hint="inv_{0}"),
))


def inv(x) -> Node:
    return Node(INV, (core.as_node(x),))


@rule(INV, "inverse-rules")
def _inv_rules(n):
    a = n.args[0]
    if a.op is INV:
        return a.args[0]
    if a.op is T:  # (Xᵀ)⁻¹ = (X⁻¹)ᵀ, printed X^{-T}
        return transpose(inv(a.args[0]))
    if a.op is core.EYE:
        return a
    return None


DET = register(Op(
    "det", shape=_square("det"),
    vjp=lambda n, g, needs: (mul(mul(g, n), transpose(inv(n.args[0]))),),
    print=_print_spelled, spelling=Spelling(r"\det", "det", ("det",)),
    numpy=lambda n, vals, sizes: np.linalg.det(vals[0]),
    cases=_square_cases(lambda a: det(a), "invertible"),
    code=lambda n, a, B: B.code(f"{B.linalg('det')}({a[0]})", hint="det_{0}"),
))


def _np_logdet(v):
    sign, ld = np.linalg.slogdet(v)
    return np.where(sign > 0, ld, np.nan)


def _code_logdet(n, a, B):
    """slogdet, never log(det): det overflows long before log det does."""
    native = B.native("logdet", a[0])
    if native:
        return native
    sign, logabsdet = B.let(f"{B.linalg('slogdet')}({a[0]})", ("sign_{0}", "logabsdet_{0}"))
    return B.code(f"{B.fn('where')}({sign.at(B.ADD)} > 0, {logabsdet}, {B.fn('nan')})",
                  hint="logdet_{0}")


LOGDET = register(Op(
    "logdet", shape=_square("logdet"),
    vjp=lambda n, g, needs: (mul(g, transpose(inv(n.args[0]))),),
    print=_print_spelled, spelling=Spelling(r"\log\det", "log det", ("logdet",)),
    numpy=lambda n, vals, sizes: _np_logdet(vals[0]),
    cases=_square_cases(lambda a: logdet(a), "posdet"),
    code=_code_logdet,
))


def det(x) -> Node:
    return Node(DET, (core.as_node(x),))


def logdet(x) -> Node:
    """log det X (NaN where det X <= 0); its gradient is X^{-T}."""
    return Node(LOGDET, (core.as_node(x),))


# ---- diag ----------------------------------------------------------------------------------
def _diag_shape(args, params):
    (a,) = args
    if a.ndim == 1:
        return (a.shape[0], a.shape[0])
    if a.ndim == 2 and a.shape[0] == a.shape[1]:
        return (a.shape[0],)
    raise ShapeError(f"diag needs a 1-D vector or a square matrix, got {describe(a)}")


def _mf_diag(R, n: Node) -> Node:  # diag(v) embeds, diag(A) extracts: E and Eᵀ
    a = n.args[0]
    e = R.diag_embed(a.shape[0])
    return R.mm(e if a.ndim == 1 else transpose(e), R.of(a))

DIAG = register(Op(
    "diag", shape=_diag_shape, symmetric=lambda n: n.args[0].ndim == 1, matrix_form=_mf_diag,
    vjp=lambda n, g, needs: (diag(g),),
    print=_print_spelled,
    spelling=Spelling(r"\operatorname{diag}", "diag", ("diag", "Diag")),
    numpy=lambda n, vals, sizes: np.diag(vals[0]), linear=True,
    cases=lambda: [(lambda a: diag(a), [((3,), "any")]), (lambda a: diag(a), [((3, 3), "any")])],
    code=lambda n, a, B: B.code(f"{B.fn('diag')}({a[0]})", hint="diag_{0}"),
))


def diag(x) -> Node:
    """diag(v): the diagonal matrix of a vector; diag(X): the diagonal of a square matrix."""
    return Node(DIAG, (core.as_node(x),))


# ---- norm ------------------------------------------------------------------------------------
def _norm_shape(args, params):
    (a,) = args
    if a.ndim == 0:
        raise ShapeError(f"norm needs a vector or a matrix, got {describe(a)}; use abs()")
    return ()


NORM = register(Op(
    "norm", shape=_norm_shape,
    vjp=lambda n, g, needs: (mul(g, div(n.args[0], n)),),
    print=lambda n, P: P.norm(n.args[0]),
    numpy=lambda n, vals, sizes: np.sqrt(np.sum(vals[0] * vals[0])),
    cases=lambda: [(lambda a: norm(a), [(s, "nonzero")]) for s in [(4,), (3, 4), (3, 1)]],
    code=lambda n, a, B: B.code(f"{B.linalg('norm')}({a[0]})", hint="norm_{0}"),
))


def norm(x) -> Node:
    """The Euclidean norm of a vector, the Frobenius norm of a matrix."""
    return Node(NORM, (core.as_node(x),))


provide(matmul=matmul, outer=outer, trace=trace, inv=inv, diag=diag)
