"""Axes beyond matrices: permute (transpose with axes), regroup (a reshape merging or splitting
axes), swapaxes and expand_dims. Both ops print only in index notation (symgrad.tensor_print)."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ShapeError
from ..node import Node, describe
from ..op import Op, provide, register, rule
from ..shapes import fmt_shape, numel
from . import core
from .shape import RESHAPE, _ints, _perm, index_notation_only, reshape, transpose


def swapaxes(x, axis1: int, axis2: int) -> Node:
    """x with two axes interchanged, as numpy.swapaxes."""
    x = core.as_node(x)
    a, b = _perm(x, (axis1, axis2), full=False)
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def expand_dims(x, axis: int) -> Node:
    """x with a unit axis inserted at `axis`, as numpy.expand_dims (x[..., None, ...])."""
    x = core.as_node(x)
    if not isinstance(axis, int) or isinstance(axis, bool) or not -x.ndim - 1 <= axis <= x.ndim:
        raise ShapeError(f"axis {axis!r} is out of range for expand_dims of {describe(x)}")
    axis %= x.ndim + 1
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


# ---- permute: transpose with axes, for arrays of three or more axes ----------------------------
def _code_permute(n, a, B):
    perm = ", ".join(map(str, n.params[0]))
    if B.name == "torch":
        return B.code(f"{a[0].at(B.ATOM)}.permute({perm})", hint="{0}T", view=True)
    return B.code(f"{B.fn('transpose')}({a[0]}, ({perm}))", hint="{0}T", view=True)


def _inverse_perm(perm) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


PERMUTE = register(Op(
    "permute",
    shape=lambda args, params: tuple(args[0].shape[i] for i in params[0]),
    entry=lambda n, E, idx: E.entry(n.args[0], [idx[n.params[0].index(i)]
                                                for i in range(n.ndim)]),
    batch=lambda n, args, deps, lead: transpose(
        args[0], tuple(range(len(lead))) + tuple(len(lead) + p for p in n.params[0])),
    vjp=lambda n, g, needs: (transpose(g, _inverse_perm(n.params[0])),),
    print=index_notation_only,
    numpy=lambda n, vals, sizes: np.transpose(vals[0], n.params[0]),
    linear=True,
    tensor_cases=lambda: [(lambda a, p=p: transpose(a, p), [(s, "any")]) for s, p in [
        ((2, 3, 4), (1, 0, 2)), ((2, 3, 4), None), ((2, 1, 4), (2, 0, 1)),
        ((2, 3, 4, 5), (0, 2, 1, 3)), ((2, 3, 4, 5), (3, 1, 2, 0))]],
    code=_code_permute,
))


@rule(PERMUTE, "permute-compose")
def _pp(n):
    a = n.args[0]
    if a.op is not PERMUTE:
        return None
    inner, outer = a.params[0], n.params[0]
    return transpose(a.args[0], tuple(inner[i] for i in outer))



def permute(x: Node, perm: tuple[int, ...]) -> Node:
    return Node(PERMUTE, (x,), (perm,))


def _entry_regroup(n: Node, E, idx):
    """Merged axes: one index runs over the block, row-major; split: the block's index is
    1 + (i - 1) s + j - 1 from the split indices i, j (1-based)."""
    src, dst = n.args[0].shape, n.shape
    groups, i, j = [], 0, 0
    while i < len(src) and j < len(dst):
        i0, j0, a, b = i, j, src[i], dst[j]
        i, j = i + 1, j + 1
        while sympy.expand(a - b) != 0:  # grow the smaller block until both hold the same
            if i < len(src) and sympy.fraction(sympy.cancel(b / a))[1] == 1:
                a, i = a * src[i], i + 1
            elif j < len(dst):
                b, j = b * dst[j], j + 1
            else:
                break
        if sympy.expand(a - b) != 0 or (i - i0 > 1 and j - j0 > 1):  # no neighbouring blocks:
            # the source's indices from the flat (row-major) position of the entry
            flat = _merge_index(E, [i for i in idx], dst)
            return E.entry(n.args[0], _split_index(E, f"({flat})", src))
        groups.append((src[i0:i], list(idx[j0:j]), dst[j0:j]))
    out: list[str] = []
    for s_sizes, d_idx, d_sizes in groups:
        if len(d_idx) == 1:  # the source's axes merged into this one
            out += _split_index(E, d_idx[0], s_sizes) if len(s_sizes) > 1 else d_idx
        else:
            out.append(_merge_index(E, d_idx, d_sizes))
    out += ["1"] * (len(src) - len(out))  # trailing unit axes
    return E.entry(n.args[0], out)


def _merge_index(E, idx, sizes) -> str:
    """The 1-based index of a block from its sub-indices: 1 + sum (i_k - 1) * stride_k."""
    terms = []
    for k, i in enumerate(idx[:-1]):
        stride = E.P.size(numel(sizes[k + 1:]))
        terms.append(f"({i} - 1) {stride}")
    return " + ".join(terms + [idx[-1]])


def _split_index(E, m: str, sizes) -> list[str]:
    out = []
    for k in range(len(sizes)):
        stride = numel(sizes[k + 1:])
        q = (f"({m} - 1)" if k else f"{m} - 1") if stride == 1 else (
            rf"\lfloor ({m} - 1) / {E.P.size(stride)} \rfloor" if E.P.is_latex
            else f"⌊({m} - 1)/{E.P.size(stride)}⌋")
        mod = rf" \bmod {E.P.size(sizes[k])}" if k and E.P.is_latex else (
            f" mod {E.P.size(sizes[k])}" if k else "")
        out.append(q + mod + " + 1")
    return out


# ---- regroup: a reshape that merges or splits axes (row-major order, as NumPy) ------------------
def _regroup_shape(args, params):
    (a,) = args
    (shape,) = params
    if sympy.expand(numel(a.shape) - numel(shape)) != 0:
        raise ShapeError(f"cannot reshape {describe(a)} to {fmt_shape(shape)}: "
                         f"{numel(a.shape)} entries do not fill {numel(shape)}")
    return shape


REGROUP = register(Op(
    "regroup",
    shape=_regroup_shape, entry=lambda n, E, idx: _entry_regroup(n, E, idx),
    batch=lambda n, args, deps, lead: reshape(args[0], tuple(lead) + n.shape),
    vjp=lambda n, g, needs: (reshape(g, n.args[0].shape),),
    print=index_notation_only,
    numpy=lambda n, vals, sizes: np.reshape(vals[0], _ints(n.shape, sizes)),
    linear=True,
    tensor_cases=lambda: [(lambda a, s=dst: reshape(a, s), [(src, "any")]) for src, dst in [
        ((2, 12), (2, 3, 4)), ((2, 3, 4), (6, 4)), ((2, 3, 4), (2, 12)), ((24,), (2, 3, 4)),
        ((2, 3, 4, 5), (6, 20)), ((2, 3, 4), (4, 3, 2))]],
    code=lambda n, a, B: B.code(f"{B.fn('reshape')}({a[0]}, {B.shape(n.shape)})",
                                hint="{0}", view=True),
))


@rule(REGROUP, "reshape-compose")
def _regroup_compose(n):  # merged then split again (heads): one reshape, or none
    a = n.args[0]
    return reshape(a.args[0], n.shape) if a.op in (RESHAPE, REGROUP) else None



def regroup(x: Node, shape) -> Node:
    return Node(REGROUP, (x,), (shape,))


provide(permute=permute, regroup=regroup)
