"""Shape ops: transpose, reshape (unit axes only), and the adjoint pair broadcast_to / sum_to.

A broadcast is a linear map; its adjoint is the sum over the broadcast axes. The explicit
(matrix-notation) form of both is a product with ones vectors: b 1ᵀ, 1 cᵀ, G 1, Gᵀ 1.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import ShapeError, UnsupportedError
from ..node import Node, describe
from ..op import Op, later, register, rule
from ..shapes import Shape, as_shape, broadcast_shapes, can_broadcast, fmt_shape
from . import core


# ---- transpose -----------------------------------------------------------------------------
def _code_t(n, a, B):
    """A view: W.T. (Wᵀ)ᵀ is W; transposed constants are constants (1ᵀ is ones, Iᵀ is I)."""
    for rule_ in (_tt, _t_const):
        out = rule_(n)
        if out is not None:
            return out
    return B.code(f"{a[0].at(B.ATOM)}.T", hint="{0}T", view=True)


def _t_shape(args, params):
    (a,) = args
    return a.shape[::-1]


def _print_t(n, P):
    return P.transpose(n.args[0])


def _mf_t(R, n: Node) -> Node:  # vec(Eᵀ) = K vec(E), K the commutation matrix
    p, q = n.args[0].shape
    return R.mm(R.commutation(p, q), R.of(n.args[0]))

T = register(
    Op(
        "transpose",
        shape=_t_shape, matrix_form=_mf_t, involution=True,
        entry=lambda n, E, idx: E.entry(n.args[0], idx[::-1]),
        batch=lambda n, args, deps, lead: transpose(
            args[0], tuple(range(len(lead))) + (len(lead) + 1, len(lead))),
        vjp=lambda n, g, needs: (transpose(g),),
        print=_print_t,
        numpy=lambda n, vals, sizes: np.swapaxes(vals[0], -1, -2),
        linear=True,
        cases=lambda: [(lambda a: transpose(a), [(s, "any")]) for s in [(3, 4), (1, 4), (3, 1)]],
        code=lambda n, a, B: _code_t(n, a, B),
    )
)


def transpose(x, axes=None) -> Node:
    """Permute the axes as numpy.transpose: reversed when `axes` is None (NumPy's .T; a no-op
    on scalars and 1-D vectors), else axis i of the result is axis axes[i] of x."""
    x = core.as_node(x)
    perm = tuple(range(x.ndim))[::-1] if axes is None else _perm(x, axes)
    if perm == tuple(range(x.ndim)):
        return x
    if x.ndim == 2:  # the matrix transpose Xᵀ
        return Node(T, (x,))
    return later.permute(x, perm)  # symgrad.ops.axes


def _perm(x: Node, axes, full: bool = True) -> tuple[int, ...]:
    """Axes normalized (negative ones counted from the end); a permutation when `full`."""
    try:
        out = tuple(operator.index(a) for a in axes)
    except TypeError:
        raise ShapeError(f"axes {axes!r} for {describe(x)} must be integers") from None
    if any(not -x.ndim <= a < x.ndim for a in out):
        raise ShapeError(f"axes {axes!r} are out of range for {describe(x)}")
    out = tuple(a % x.ndim for a in out) if x.ndim else out
    if full and sorted(out) != list(range(x.ndim)):
        raise ShapeError(f"axes {axes!r} are not a permutation of the {x.ndim} axes of "
                         f"{describe(x)}")
    return out


def index_notation_only(n: Node, P):
    """The print rule of ops that exist only beyond matrices: the printer writes them in index
    notation (symgrad.tensor_print); reaching the matrix printer is a bug, said as one."""
    raise UnsupportedError(f"{n.op.name} of {describe(n)} has no matrix notation")


@rule(T, "transpose-involution")
def _tt(n):
    a = n.args[0]
    return a.args[0] if a.op is T else None


@rule(T, "transpose-product")
def _t_product(n):  # (A B)ᵀ = Bᵀ Aᵀ: transposes move inward
    a = n.args[0]
    if a.op.name == "matmul" and a.args[0].ndim == 2 and a.args[1].ndim == 2:
        return later.matmul(transpose(a.args[1]), transpose(a.args[0]))
    if a.op.name == "outer":
        return later.outer(a.args[1], a.args[0])
    return None


@rule(T, "transpose-constant")
def _t_const(n):
    a = n.args[0]
    if a.op is core.ONES:
        return core.ones(*n.shape)
    if a.op is core.ZEROS:
        return core.zeros(*n.shape)
    if a.op is core.EYE:
        return a
    return None


def is_symmetric_expr(a: Node) -> bool:
    """Structurally symmetric, by what each op declares (Op.symmetric): "always" (I, diag(v),
    a declared symmetric S), "closed" (symmetric when its matrix arguments are: inverses,
    elementwise functions, sums and Hadamard products), or a test of the node."""
    stack = [a]
    while stack:
        e = stack.pop()
        if e.ndim == 0:
            continue
        how = e.op.symmetric
        verdict = how(e) if callable(how) else how
        if verdict == "closed" and e.ndim == 2:
            stack += list(e.args)
        elif verdict is not True:
            return False
    return True


@rule(T, "transpose-symmetric")
def _t_sym(n):  # Sᵀ = S for a declared symmetric S, diag(v)ᵀ = diag(v), (S⁻¹)ᵀ = S⁻¹, ...
    a = n.args[0]
    if is_symmetric_expr(a):
        return a
    if a.op is RESHAPE and 1 in a.shape:  # (vᵀ)ᵀ: a row or column turned over is a reshape
        return reshape(a.args[0], n.shape)
    return None


# ---- reshape: only inserting or removing unit axes (keepdims, rows from 1-D vectors) ---------
def _rs_shape(args, params):
    (a,) = args
    (shape,) = params
    if [s for s in a.shape if s != 1] != [s for s in shape if s != 1]:
        raise ShapeError(
            f"cannot reshape {describe(a)} to {fmt_shape(shape)}: only unit axes may change"
        )
    return shape


def _print_rs(n, P):
    a = n.args[0]
    # (k,) -> (1, k) is the row kᵀ; (1, k) -> (k,) is the column again.
    row_in = a.ndim == 2 and a.shape[0] == 1 and a.shape[1] != 1
    row_out = n.ndim == 2 and n.shape[0] == 1 and n.shape[1] != 1
    if row_in != row_out:
        return P.transpose(a)
    return P.fmt(a)


def _code_reshape(n, a, B):
    """Unit axes come and go by indexing, a view: v[:, None], x[:, 0], x[0]."""
    (x,) = a
    src, dst = x.shape, n.shape
    idx, i = [], 0
    if len(src) < len(dst):  # insert axes: match src's axes left to right, None elsewhere
        for s in dst:
            if i < len(src) and src[i] == s:
                idx.append(":")
                i += 1
            else:
                idx.append("None")
    else:  # drop unit axes (index 0)
        for s in src:
            if i < len(dst) and dst[i] == s and len(src) - len(idx) > len(dst) - i - 1:
                idx.append(":")
                i += 1
            else:
                idx.append("0")
    if x.ndim == 0 or len(src) == len(dst) or i != min(len(src), len(dst)):
        return f"{B.fn('reshape')}({x}, {B.shape(dst)})"
    while idx and idx[-1] == ":":
        idx.pop()
    return B.code(f"{x.at(B.ATOM)}[{', '.join(idx)}]", view=True, hint="{0}")


def _mf_same(R, n: Node) -> Node:  # unit axes only: vec is unchanged
    return R.of(n.args[0])

RESHAPE = register(
    Op(
        "reshape",
        shape=_rs_shape, matrix_form=_mf_same, entry=lambda n, E, idx: _entry_reshape(n, E, idx),
        batch=lambda n, args, deps, lead: reshape(args[0], tuple(lead) + n.shape),
        vjp=lambda n, g, needs: (reshape(g, n.args[0].shape),),
        print=_print_rs,
        numpy=lambda n, vals, sizes: np.reshape(vals[0], _ints(n.shape, sizes)),
        linear=True,
        cases=lambda: [
            (lambda a: reshape(a, (1, 4)), [((4,), "any")]),
            (lambda a: reshape(a, (4,)), [((1, 4), "any")]),
            (lambda a: reshape(a, ()), [((1, 1), "any")]),
            (lambda a: reshape(a, (3, 1)), [((3,), "any")]),
        ],
        tensor_cases=lambda: [(lambda a, s=dst: reshape(a, s), [(src, "any")]) for src, dst in [
            ((2, 3, 4), (2, 1, 3, 4)), ((2, 1, 3, 4), (2, 3, 4)), ((3, 4), (1, 3, 1, 4))]],
        code=_code_reshape,
    )
)


def _ints(shape: Shape, sizes) -> tuple[int, ...]:
    return tuple(int(s) if isinstance(s, int) else int(s.subs(sizes)) for s in shape)


def prepends_unit_axes(n: Node) -> bool:
    """A reshape that only adds leading unit axes, which NumPy broadcasting adds anyway."""
    if n.op is not RESHAPE:
        return False
    a = n.args[0]
    lead = n.ndim - a.ndim
    return lead > 0 and n.shape[lead:] == a.shape and all(s == 1 for s in n.shape[:lead])


def reshape(x, shape) -> Node:
    """x with a new shape of the same number of entries, read in row-major (C) order as
    numpy.reshape: unit axes inserted or removed, axes merged ((T, H, e) -> (T, H e)) or split."""
    x = core.as_node(x)
    shape = as_shape(shape)
    if shape == x.shape:
        return x
    if [s for s in x.shape if s != 1] == [s for s in shape if s != 1]:
        return Node(RESHAPE, (x,), (shape,))
    return later.regroup(x, shape)  # symgrad.ops.axes


def _entry_reshape(n: Node, E, idx):
    """Unit axes come and go: the other axes keep their indices, in order."""
    long = iter(i for i, s in zip(idx, n.shape) if s != 1)
    return E.entry(n.args[0], ["1" if s == 1 else next(long) for s in n.args[0].shape])


@rule(RESHAPE, "reshape-compose")
def _rr(n):
    a = n.args[0]
    if a.op.name == "sum" and a.params[1]:  # dropping a sum's kept axes: sum without keepdims
        flat = later.sum(a.args[0], a.params[0], keepdims=False)
        if flat.shape == n.shape:
            return flat
    if a.op is RESHAPE or a.op.name == "regroup" or (a.op is T and 1 in a.shape):  # vᵀ too
        return reshape(a.args[0], n.shape)
    if core.is_one(a):  # ones, or the number 1 as a 1×1 block
        return core.ones(*n.shape)
    if core.is_zero(a):
        return core.zeros(*n.shape)
    return None


# ---- broadcast_to and its adjoint sum_to -----------------------------------------------------
def _bt_shape(args, params):
    (a,) = args
    (shape,) = params
    if not can_broadcast(a.shape, shape):
        raise ShapeError(f"cannot broadcast {describe(a)} to {fmt_shape(shape)}")
    return shape


def _st_shape(args, params):
    (a,) = args
    (shape,) = params
    if not can_broadcast(shape, a.shape):
        raise ShapeError(f"cannot sum {describe(a)} to {fmt_shape(shape)}")
    return shape


def _bcast_cases():
    pairs = [((), (4,)), ((), (3, 4)), ((4,), (3, 4)), ((1, 4), (3, 4)), ((3, 1), (3, 4))]
    return [(lambda a, s=dst: broadcast_to(a, s), [(src, "any")]) for src, dst in pairs]


def _sum_cases():
    pairs = [((4,), ()), ((3, 4), ()), ((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 4), (3, 1))]
    return [(lambda a, s=dst: sum_to(a, s), [(src, "any")]) for src, dst in pairs]


_TENSOR_BCAST = [((), (2, 3, 4)), ((3, 4), (2, 3, 4)), ((1, 3, 1), (2, 3, 4)),
                 ((2, 1, 4), (2, 3, 4)), ((4,), (2, 3, 4)), ((3, 1, 5), (2, 3, 4, 5)),
                 ((2, 1, 1, 5), (2, 3, 4, 5))]


def _mf_broadcast(R, n: Node) -> Node:
    return R.apply(R.bcast_map(n.args[0].shape, n.shape), R.of(n.args[0]))


def _mf_sum_to(R, n: Node) -> Node:  # the adjoint of the broadcast: its matrix transposed
    b = R.bcast_map(n.shape, n.args[0].shape)
    return R.apply(None if b is None else transpose(b), R.of(n.args[0]))

BROADCAST = register(
    Op(
        "broadcast_to",
        shape=_bt_shape, matrix_form=_mf_broadcast,
        entry=lambda n, E, idx: E.entry(n.args[0], E.align(n.args[0], n.shape, idx)),
        batch=lambda n, args, deps, lead: broadcast_to(reshape(args[0], tuple(lead) + (1,) * (
            n.ndim - n.args[0].ndim) + n.args[0].shape), tuple(lead) + n.shape),
        vjp=lambda n, g, needs: (sum_to(g, n.args[0].shape),),
        print=lambda n, P: P.fmt(explicit_broadcast(n.args[0], n.shape)),
        numpy=lambda n, vals, sizes: np.broadcast_to(vals[0], _ints(n.shape, sizes)),
        explicit=lambda n: explicit_broadcast(n.args[0], n.shape),
        linear=True,
        cases=_bcast_cases,
        tensor_cases=lambda: [(lambda a, s=dst: broadcast_to(a, s), [(src, "any")])
                              for src, dst in _TENSOR_BCAST],
        # A view; operands of elementwise ops skip it (implicit_operands).
        code=lambda n, a, B: B.code(f"{B.fn('broadcast_to')}({a[0]}, {B.shape(n.shape)})",
                                    hint="{0}", view=True),
    )
)

SUM_TO = register(
    Op(
        "sum_to",
        shape=_st_shape, matrix_form=_mf_sum_to,
        entry=lambda n, E, idx: E.entry(_sum_to_as_sum(n), idx),
        batch=lambda n, args, deps, lead: reshape(later.sum(args[0], tuple(
            len(lead) + i for i in sum_axes(n.args[0].shape, n.shape)), keepdims=True),
            tuple(lead) + n.shape),
        vjp=lambda n, g, needs: (broadcast_to(g, n.args[0].shape),),
        print=lambda n, P: P.fmt(_sum_to_as_sum(n)),
        numpy=lambda n, vals, sizes: _np_sum_to(vals[0], n),
        explicit=lambda n: _sum_to_as_sum(n),
        linear=True,
        cases=_sum_cases,
        tensor_cases=lambda: [(lambda a, s=src: sum_to(a, s), [(dst, "any")])
                              for src, dst in _TENSOR_BCAST],
        code=lambda n, a, B: _sum_to_as_sum(n),  # G.sum(axis=0): the sum it is
    )
)


def broadcast_to(x, shape) -> Node:
    x = core.as_node(x)
    shape = as_shape(shape)
    if x.shape == shape:
        return x
    return Node(BROADCAST, (x,), (shape,))


def sum_to(x, shape) -> Node:
    """Sum x down to `shape`: the adjoint of broadcast_to (the one place broadcasts are undone)."""
    x = core.as_node(x)
    shape = as_shape(shape)
    if x.shape == shape:
        return x
    return Node(SUM_TO, (x,), (shape,))


def sum_axes(src: Shape, dst: Shape) -> tuple[int, ...]:
    """Axes of `src` that broadcasting `dst` up to `src` created or stretched."""
    lead = len(src) - len(dst)
    return tuple(
        i for i in range(len(src)) if i < lead or (dst[i - lead] == 1 and src[i] != 1)
    )


def _sum_to_as_sum(n: Node) -> Node:
    a = n.args[0]
    axes = sum_axes(a.shape, n.shape)
    flat = later.sum(a, axis=axes, keepdims=False)
    if flat.shape == n.shape:  # Gᵀ 1 for a 1-D bias rather than (1ᵀ G)ᵀ
        return flat
    return reshape(later.sum(a, axis=axes, keepdims=True), n.shape)


def _np_sum_to(v, n):
    a = n.args[0]
    s = np.sum(v, axis=sum_axes(a.shape, n.shape), keepdims=True)
    return s.reshape(s.shape[len(a.shape) - len(n.shape):])


@rule(SUM_TO, "sum_to-as-sum")
def _st_lower(n):
    return _sum_to_as_sum(n)


@rule(BROADCAST, "broadcast-constant")
def _bt_const(n):
    a = n.args[0]
    if a.op is core.ZEROS or core.is_number(a, 0):
        return core.zeros(*n.shape)
    if a.op is core.ONES or core.is_number(a, 1):
        return core.ones(*n.shape)
    if a.op is BROADCAST or prepends_unit_axes(a):
        return broadcast_to(a.args[0], n.shape)
    return None


def implicit_operands(n: Node, args: list, B) -> list:
    """Operands of an elementwise op with broadcasts left to NumPy broadcasting, as an expert
    writes them: `H + b`, not `H + np.broadcast_to(b, (N, h))`; 1 for a block of ones."""
    out = list(args)
    for i, a in enumerate(args):
        cand = a
        while cand.node is not None and (cand.node.op is BROADCAST
                                         or prepends_unit_axes(cand.node)):
            cand = cand.args[0]
        if cand.node is not None and cand.node.op in (core.ONES, core.ZEROS):
            cand = B.const("1" if cand.node.op is core.ONES else "0")
        if cand is a:
            continue
        trial = out[:i] + [cand] + out[i + 1:]
        shape: Shape = ()
        for t in trial:
            shape = broadcast_shapes(shape, t.shape)
        if shape == n.shape:
            out = trial
    return out


def explicit_broadcast(x: Node, shape: Shape) -> Node:
    """broadcast_to(x, shape) written with ones vectors: b 1ᵀ, 1 cᵀ, s 1 1ᵀ."""
    if x.shape == shape:
        return x
    if len(shape) > 2:  # beyond matrices the broadcast is explicit in index notation
        return broadcast_to(x, shape)
    if x.ndim == 0:
        if len(shape) == 1 or 1 in shape:  # s 1ₙ, s 1ₖᵀ
            return later.mul(x, core.ones(*shape))
        return later.mul(x, later.matmul(core.ones(shape[0], 1),
                                         transpose(core.ones(shape[1], 1))))
    if all(s == 1 for s in x.shape):  # 1ₙ ⊙ u: a (1,) u beside 1ₙ would read as a product
        return later.mul(core.ones(*shape), x)
    x2 = reshape(x, (1,) * (2 - x.ndim) + x.shape)
    out = x2
    if x2.shape[0] == 1 and shape[0] != 1:
        out = later.matmul(core.ones(shape[0], 1), out)
    if x2.shape[1] == 1 and shape[1] != 1:
        out = later.matmul(out, transpose(core.ones(shape[1], 1)))
    return out
