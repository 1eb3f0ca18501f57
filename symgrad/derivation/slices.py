"""A batched expression cut into slices along its leading (batch) axes, in matrix notation.

X W + b with X of shape (B, T, d) is, slice by slice, X_i W + b (X_i the i-th T×d slice of X
along its leading axis): every node whose leading axes are the batch axes becomes its slice,
every other node (W, b, broadcast along the batch) stays whole. Which nodes carry the batch is
read top-down from the root, op by op; an op that mixes the slices (a sum over the batch axis,
a transpose moving it, a softmax across it) or that has no per-slice matrix form is refused,
naming it, never guessed.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..node import Node, describe, topo
from ..ops import core, linalg, reduce, shape
from ..ops.axes import PERMUTE
from ..ops.einsum import EINSUM, einsum
from ..shapes import fmt_shape
from ..tensor_print import needs_index_notation

_AXIS_OPS = {  # reductions along axes: a slice's are along the same axes, less the batch's
    reduce.SUM: reduce.sum_,
    reduce.LSE: reduce.logsumexp,
    reduce.SOFTMAX: lambda x, axes, keep: reduce.softmax(x, axes),
}


def _refuse(n: Node, why: str) -> UnsupportedError:
    return UnsupportedError(f"derive() cannot write {n.op.name} ({describe(n)}) slice by slice: "
                            f"{why}")


def _entrywise(n: Node) -> bool:
    return n.op.algebra is not None or n.op.sympy is not None


class Slicer:
    """Slices of the nodes under a root whose leading `r` axes (sizes `sizes`) are the batch.

    tag is the subscript of a slice (`i`); slice variables are named `X_i`."""

    def __init__(self, r: int, sizes: tuple, tag: str) -> None:
        self.r, self.sizes, self.tag = r, tuple(sizes), tag
        self.batched: dict[Node, bool] = {}
        self.slices: dict[Node, Node] = {}  # slice variable -> the whole variable

    # ---- which nodes carry the batch ------------------------------------------------------
    def _args_batched(self, n: Node) -> tuple[bool, ...]:
        r = self.r
        if n.shape[:r] != self.sizes:
            raise _refuse(n, f"its leading axes are not the batch axes {fmt_shape(self.sizes)}")
        if n.op is core.VAR:
            return ()
        if n.op is core.NAME:
            return (True,)
        if n.op is EINSUM:
            terms, out = n.params
            lead = out[:r]
            flags = []
            for t in terms:
                if t[:r] == lead:
                    flags.append(True)
                elif set(t) & set(lead):
                    raise _refuse(n, "an operand carries the batch axes elsewhere than first")
                else:
                    flags.append(False)
            return tuple(flags)
        if n.op is linalg.MATMUL:  # the rows of A W are the rows of A times W
            a, b = n.args
            if r != 1 or a.ndim != 2:
                raise _refuse(n, "only the rows of the left factor slice a matrix product")
            return (True, False)
        if n.op in _AXIS_OPS:
            if min(n.params[0]) < r:
                raise _refuse(n, "it reduces over a leading axis of its operand, which mixes "
                                 "the slices")
            return (True,)
        if n.op is PERMUTE:
            if tuple(n.params[0][:r]) != tuple(range(r)):
                raise _refuse(n, "it moves a batch axis")
            return (True,)
        if _entrywise(n):
            flags = []
            for a in n.args:
                lead = n.ndim - a.ndim
                if lead >= r:
                    flags.append(False)  # broadcast along the batch: the same in every slice
                elif lead == 0 and a.shape[:r] == self.sizes:
                    flags.append(True)
                elif lead == 0 and all(z == 1 for z in a.shape[:r]) and a.ndim <= 2:
                    flags.append(False)  # unit batch axes: the same in every slice
                else:
                    raise _refuse(n, f"the operand {describe(a)} is broadcast along the batch "
                                     "through a unit axis or a part of the batch axes")
            return tuple(flags)
        raise _refuse(n, "it has no per-slice form in derivations yet")

    def mark(self, top: Node) -> None:
        """Which nodes under top (itself batched) carry the batch axes."""
        self.batched = {top: True}
        for n in reversed(topo(top)):
            if not self.batched.get(n, False):
                flags = (False,) * len(n.args)
            else:
                flags = self._args_batched(n)
            for a, f in zip(n.args, flags):
                if self.batched.setdefault(a, f) != f:
                    raise _refuse(a, "it is used both slice by slice and across the batch")

    # ---- the slices -------------------------------------------------------------------------
    def var_slice(self, v: Node) -> Node:
        s = core.variable(f"{v.params.name}_{self.tag}", *v.shape[self.r:], kind=v.params.kind)
        self.slices[s] = v
        return s

    def cut(self, top: Node) -> Node:
        """The slice of top (marked batched), in matrix notation."""
        self.mark(top)
        memo: dict[Node, Node] = {}
        r = self.r
        for n in topo(top):
            if not self.batched.get(n, False):
                memo[n] = n
                continue
            args = tuple(memo[a] for a in n.args)
            if n.op is core.VAR:
                out = self.var_slice(n)
            elif n.op is core.NAME:
                out = core.name(f"{n.params[0]}_{self.tag}", args[0])
            elif n.op is EINSUM:
                terms, o = n.params
                ts = tuple(t[r:] if b else t for t, b in zip(
                    terms, (self.batched[a] for a in n.args)))
                out = contraction(ts, o[r:], args)
                if out is None:
                    raise _refuse(n, "its slices have no matrix notation (a contraction of "
                                     "arrays of three or more axes, or a diagonal)")
            elif n.op is linalg.MATMUL:
                out = linalg.matmul(*args)
            elif n.op in _AXIS_OPS:
                axes, keep = n.params
                out = _AXIS_OPS[n.op](args[0], tuple(a - r for a in axes), keep)
            elif n.op is PERMUTE:
                out = shape.transpose(args[0], tuple(p - r for p in n.params[0][r:]))
            elif n.args and _entrywise(n):  # a unit batch axis dropped: (1, n, 1) -> (n, 1)
                out = Node(n.op, tuple(
                    shape.reshape(s, a.shape[r:]) if not self.batched[a] and a.ndim == n.ndim
                    else s for a, s in zip(n.args, args)), n.params)
            else:
                raise _refuse(n, "it has no per-slice form in derivations yet")
            memo[n] = out
        out = memo[top]
        for m in topo(out):
            if not needs_index_notation(m):
                continue
            if self.batched.get(m) is False:  # whole in every slice, and beyond matrices
                raise _refuse(m, f"it has {m.ndim} axes and is not cut along the slices' "
                                 f"leading {fmt_shape(self.sizes)} axes, so it has no matrix "
                                 "notation in a slice")
            raise _refuse(m, "its slice still has three or more axes (no matrix notation)")
        return out


# ---- contractions of vectors and matrices as products ------------------------------------------
def _pair(x: Node, a: str, y: Node, b: str, keep: str) -> Node | None:
    """The contraction of x (axes a) and y (axes b) to the axes keep, as a matrix product."""
    e = einsum(f"{a},{b}->{keep}", x, y)
    if e.op is not EINSUM:
        return e
    shared = (set(a) & set(b)) - set(keep)
    if not shared and len(a) == len(b) == 1:  # an outer product
        return linalg.outer(x, y) if keep == a + b else (
            linalg.outer(y, x) if keep == b + a else None)
    if len(shared) != 1 or len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    (c,) = shared
    if len(a) == 2 and len(b) == 1:
        x, a, y, b = y, b, x, a
    if len(a) == 1 and len(b) == 1:
        return linalg.matmul(x, y) if keep == "" else None
    if len(a) == 1 and len(b) == 2:  # x^T Y or Y x
        other = b.replace(c, "")
        if keep != other:
            return None
        return linalg.matmul(x, y) if b[0] == c else linalg.matmul(y, x)
    return None


def contraction(terms: tuple[str, ...], out: str, xs: tuple[Node, ...]) -> Node | None:
    """A contraction of vectors and matrices written with products and transposes (x^T A x,
    X W), or None where it has no such form."""
    e = einsum(",".join(terms) + "->" + out, *xs)
    if e.op is not EINSUM:
        return e
    ts, ys = list(terms), list(xs)
    while len(ys) > 1:
        rest = ts[2:] + [out]
        keep = "".join(c for c in dict.fromkeys(ts[0] + ts[1]) if any(c in u for u in rest))
        p = _pair(ys[0], ts[0], ys[1], ts[1], keep)
        if p is None:
            return None
        ts, ys = [keep] + ts[2:], [p] + ys[2:]
    e = einsum(f"{ts[0]}->{out}", ys[0])
    return None if e.op is EINSUM else e
