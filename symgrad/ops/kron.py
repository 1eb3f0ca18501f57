"""Magnus–Neudecker vec/Kronecker calculus: kron, vec (and its inverse), commutation matrices.

vec stacks the columns of a matrix (column-major, as in Magnus & Neudecker), so that
vec(A X B) = (Bᵀ ⊗ A) vec(X). NumPy's reshape is row-major: the NumPy forms below say
order="F" explicitly. The commutation matrix K_{p,q} is the permutation with
K_{p,q} vec(A) = vec(Aᵀ) for A of shape (p, q).
"""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ShapeError
from ..node import Node, describe, shape_error
from ..op import ATOM, HAD, PROD, Op, Spelling, register, rule
from ..shapes import as_size, numel
from . import core
from .arith import mul
from .linalg import MATMUL, matmul
from .shape import T, _ints, reshape, transpose


# ---- kron ------------------------------------------------------------------------------------
def _kron_shape(args, params):
    a, b = args
    if a.ndim == 2 and b.ndim == 2:
        return (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1])
    if a.ndim == 1 and b.ndim == 1:
        return (a.shape[0] * b.shape[0],)
    raise shape_error("take the Kronecker product of", a, b,
                      "kron needs two matrices or two 1-D vectors (use * for scalars, "
                      "reshape a vector to a column to mix them)")


def _vjp_kron(n, g, needs):
    """Block sums of G weighted by the other factor, with ones and identities only:
    dA = (I_p ⊗ 1_rᵀ) (G ⊙ (1_p 1_qᵀ ⊗ B)) (I_q ⊗ 1_s),
    dB = (1_pᵀ ⊗ I_r) (G ⊙ (A ⊗ 1_r 1_sᵀ)) (1_q ⊗ I_s)."""
    a, b = n.args
    if a.ndim == 1:  # the 2-D rule with q = s = 1 (kron of columns)
        p, r = a.shape[0], b.shape[0]
        da = matmul(kron(core.eye(p), core.ones(1, r)), mul(g, kron(core.ones(p), b)))
        db = matmul(kron(core.ones(1, p), core.eye(r)), mul(g, kron(a, core.ones(r))))
        return (da if needs[0] else None, db if needs[1] else None)
    (p, q), (r, s) = a.shape, b.shape
    da = matmul(matmul(kron(core.eye(p), core.ones(1, r)), mul(g, kron(core.ones(p, q), b))),
                kron(core.eye(q), core.ones(s, 1)))
    db = matmul(matmul(kron(core.ones(1, p), core.eye(r)), mul(g, kron(a, core.ones(r, s)))),
                kron(core.ones(q, 1), core.eye(s)))
    return (da if needs[0] else None, db if needs[1] else None)


def _print_kron(n, P):
    a, b = n.args
    left = P.arg(a, HAD if a.op is KRON else PROD + 1)  # ⊗ is associative: no parens needed
    return left + (r" \otimes " if P.is_latex else " ⊗ ") + P.arg(b, PROD + 1), HAD


def _mf_kron(R, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if a.ndim == 1:  # kron(a, b) = vec(b aᵀ)
        if da:
            return R.mm(R.kron(R.eye(a.shape[0]), R.col(b)), R.of(a))
        return R.mm(R.kron(R.col(a), R.eye(b.shape[0])), R.of(b))
    # Magnus & Neudecker (1999), Thm 3.10: vec(A ⊗ B) = (I_q ⊗ K_{s,p} ⊗ I_r)(vec A ⊗ vec B).
    (p, q), (r, s) = a.shape, b.shape
    perm = R.kron(R.kron(R.eye(q), R.commutation(s, p)), R.eye(r))
    if da:
        return R.mm(perm, R.mm(R.kron(R.eye(p * q), R.col(b)), R.of(a)))
    return R.mm(perm, R.mm(R.kron(R.col(a), R.eye(r * s)), R.of(b)))

KRON = register(Op(
    "kron", shape=_kron_shape, matrix_form=_mf_kron, vjp=_vjp_kron, print=_print_kron,
    numpy=lambda n, vals, sizes: np.kron(vals[0], vals[1]), linear=True,
    cases=lambda: [(lambda a, b: kron(a, b), [(sa, "any"), (sb, "any")]) for sa, sb in [
        ((2, 3), (3, 2)), ((3,), (2,)), ((1, 3), (2, 1)), ((2, 2), (1, 1))]],
    code=lambda n, a, B: _code_kron(a, B),
))


def _code_kron(a, B):
    if B.name == "torch":  # torch.kron views its inputs: a transposed view (Qᵀ) must be copied
        return B.code(f"torch.kron({a[0].at(B.ATOM)}.contiguous(), "
                      f"{a[1].at(B.ATOM)}.contiguous())", hint="{0}_kron_{1}")
    return B.code(f"{B.fn('kron')}({a[0]}, {a[1]})", hint="{0}_kron_{1}")


def kron(a, b) -> Node:
    """The Kronecker product A ⊗ B of two matrices (or of two 1-D vectors, as np.kron)."""
    return Node(KRON, (core.as_node(a), core.as_node(b)))


@rule(KRON, "kron-zero")
def _kron_zero(n):
    return core.zeros(*n.shape) if any(core.is_zero(a) for a in n.args) else None


@rule(KRON, "kron-constant")
def _kron_const(n):  # I ⊗ I = I and 1 ⊗ 1 = 1: identities and ones blocks
    a, b = n.args
    if a.op is core.EYE and b.op is core.EYE:
        return core.eye(n.shape[0])
    if a.op is core.ONES and b.op is core.ONES:
        return core.ones(*n.shape)
    return None


@rule(KRON, "kron-unit")
def _kron_unit(n):  # A ⊗ 1 = 1 ⊗ A = A, 1 a 1×1 (length-1) ones or I_1 (measure: one ⊗ fewer)
    a, b = n.args
    for unit, other in ((b, a), (a, b)):
        if unit.op in (core.ONES, core.EYE) and all(s == 1 for s in unit.shape):
            return other
    return None


@rule(T, "transpose-kron")
def _t_kron(n):  # (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ; Kᵀ_{p,q} = K_{q,p}
    a = n.args[0]
    if a.op is KRON:
        return kron(transpose(a.args[0]), transpose(a.args[1]))
    if a.op is COMMUTATION:
        p, q = a.params[1]
        return commutation(q, p)
    return None


def _mixed(x: Node, y: Node) -> Node | None:
    """(A ⊗ B)(C ⊗ D) = (A C) ⊗ (B D) when the factors' inner sizes agree."""
    if x.op is not KRON or y.op is not KRON or x.ndim != 2 or y.ndim != 2:
        return None
    (a, b), (c, d) = x.args, y.args
    if a.shape[1] != c.shape[0] or b.shape[1] != d.shape[0]:
        return None
    return kron(matmul(a, c), matmul(b, d))


@rule(MATMUL, "kron-mixed-product")
def _kron_mixed(n):
    x, y = n.args
    out = _mixed(x, y)
    if out is not None:
        return out
    if y.op is MATMUL:  # (A ⊗ B) ((C ⊗ D) E): combine the two Kronecker factors first
        inner = _mixed(x, y.args[0])
        return matmul(inner, y.args[1]) if inner is not None else None
    return None


@rule(MATMUL, "commutation-rules")
def _k_rules(n):
    x, y = n.args
    if x.op is COMMUTATION and y.op is COMMUTATION and x.params[1] == y.params[1][::-1]:
        return core.eye(n.shape[0])  # K_{q,p} K_{p,q} = I
    if x.op is COMMUTATION and y.op is KRON and y.ndim == 2:
        # K_{p,m} (A ⊗ B) = (B ⊗ A) K_{q,n} for A (m, n), B (p, q) (Magnus–Neudecker Thm 3.9):
        # commutation matrices move right, so (A ⊗ B) K and its transpose meet in one form.
        a, b = y.args
        if x.params[1] == (b.shape[0], a.shape[0]):
            return matmul(kron(b, a), commutation(b.shape[1], a.shape[1]))
    return None


# ---- vec and its inverse ---------------------------------------------------------------------
def _vec_shape(args, params):
    (a,) = args
    if a.ndim != 2:
        raise ShapeError(f"vec needs a matrix, got {describe(a)}")
    return (a.shape[0] * a.shape[1],)


def _swap_last(ndim: int) -> tuple[int, ...]:
    """The axes permutation swapping the last two of ndim (batched transposes)."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


def _mf_same(R, n: Node) -> Node:  # vec and unvec keep the entries in order
    return R.of(n.args[0])

VEC = register(Op(
    "vec", shape=_vec_shape, matrix_form=_mf_same,
    vjp=lambda n, g, needs: (unvec(g, n.args[0].shape),),
    batch=lambda n, args, deps, lead: reshape(  # each batch entry's columns stacked
        transpose(args[0], _swap_last(args[0].ndim)), tuple(lead) + n.shape),
    print=lambda n, P: (P.spelled(n), ATOM), spelling=Spelling(r"\operatorname{vec}", "vec"),
    numpy=lambda n, vals, sizes: np.reshape(vals[0], -1, order="F"), linear=True,
    cases=lambda: [(lambda a: Node(VEC, (a,)), [(s, "any")]) for s in [(3, 4), (3, 1), (1, 4)]],
    # Column-major without order="F" (torch has none): the rows of the transpose.
    code=lambda n, a, B: B.code(f"{a[0].at(B.ATOM)}.T.reshape(-1)", hint="vec_{0}"),
))


def vec(x) -> Node:
    """The columns of a matrix stacked into one vector (a 1-D vector is its own vec)."""
    x = core.as_node(x)
    if x.ndim < 2:
        return reshape(x, (1,)) if x.ndim == 0 else x
    return Node(VEC, (x,))


def _unvec_shape(args, params):
    (a,) = args
    (shape,) = params
    if a.ndim != 1 or len(shape) != 2 or sympy.simplify(numel(shape) - a.shape[0]) != 0:
        raise ShapeError(f"cannot unstack {describe(a)} into a matrix of shape {shape}")
    return shape


def _print_unvec(n, P):  # unvec_{p×q}(v): the shape it builds is part of the notation
    p, q = n.shape
    size = rf"{P.size(p)} \times {P.size(q)}" if P.is_latex else f"{p}×{q}"
    return P.spelled(n, f"_{{{size}}}" if P.is_latex else f"_{size}"), ATOM


UNVEC = register(Op(
    "unvec", shape=_unvec_shape, matrix_form=_mf_same,
    vjp=lambda n, g, needs: (vec(g),),
    batch=lambda n, args, deps, lead: transpose(
        reshape(args[0], tuple(lead) + n.shape[::-1]), _swap_last(len(lead) + 2)),
    print=_print_unvec,
    spelling=Spelling(r"\operatorname{unvec}", "unvec", subscript="shape",
                      build=lambda x, shape: unvec(x, shape)),
    numpy=lambda n, vals, sizes: np.reshape(vals[0], _ints(n.shape, sizes), order="F"),
    linear=True,
    code=lambda n, a, B: B.code(
        f"{a[0].at(B.ATOM)}.reshape({B.size(n.shape[1])}, {B.size(n.shape[0])}).T",
        hint="unvec_{0}"),
    cases=lambda: [(lambda a: unvec(a, (3, 4)), [((12,), "any")]),
                   (lambda a: unvec(a, (1, 3)), [((3,), "any")])],
))


def unvec(v, shape) -> Node:
    """The inverse of vec: a vector of length p q back into a (p, q) matrix, column by column."""
    v = core.as_node(v)
    shape = tuple(as_size(s) for s in shape)
    return Node(UNVEC, (v,), (shape,))


@rule(VEC, "vec-rules")
def _vec_rules(n):
    a = n.args[0]
    if a.op is UNVEC:
        return a.args[0]
    if 1 in a.shape:  # a row or a column: column-major order is the order of its entries
        return reshape(a, n.shape)
    return None


@rule(UNVEC, "unvec-rules")
def _unvec_rules(n):
    a = n.args[0]
    if a.op is VEC:
        return a.args[0]
    if 1 in n.shape:
        return reshape(a, n.shape)
    return None


# ---- commutation matrices ----------------------------------------------------------------------
def _k_shape(args, params):
    p, q = params[1]
    return (p * q, p * q)


def _np_commutation(n, vals, sizes):
    p, q = _ints(n.params[1], sizes)
    out = np.zeros((p * q, p * q))
    i, j = np.meshgrid(np.arange(p), np.arange(q), indexing="ij")
    out[(i * q + j).ravel(), (j * p + i).ravel()] = 1.0  # vec(Aᵀ)[i q + j] = vec(A)[j p + i]
    return out


def _print_k(n, P):
    p, q = n.params[1]
    if P.is_latex:
        return f"K_{{{P.size(p)},{P.size(q)}}}", ATOM
    return f"K{P.size(p)},{P.size(q)}", ATOM


def _code_commutation(n, a, B):
    """The rows of I_{pq} permuted: row i q + j is e_{j p + i}."""
    p, q = n.params[1]
    perm = f"{B.fn('arange')}({B.size(p * q)}).reshape({B.size(q)}, {B.size(p)}).T.reshape(-1)"
    return B.code(f"{B.create('eye', n.shape)}[{perm}]", hint=f"K_{p}_{q}")


COMMUTATION = register(Op(
    "commutation", shape=_k_shape, print=_print_k, numpy=_np_commutation, code=_code_commutation,
    differentiable=False,
    # A constant: its case has an unused variable so the registry tests still run it.
    cases=lambda: [(lambda a: commutation(2, 3), [((2,), "any")]),
                   (lambda a: commutation(3, 3), [((2,), "any")])],
))


def commutation(p, q) -> Node:
    """K_{p,q}: K_{p,q} vec(A) = vec(Aᵀ) for every (p, q) matrix A (the identity if p or q is 1)."""
    p, q = as_size(p), as_size(q)
    if p == 1 or q == 1:
        return core.eye(p * q)
    return Node(COMMUTATION, (), ("K", (p, q)))
