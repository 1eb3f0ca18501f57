"""Batching an expression over new leading axes (vmap): how Jacobians of any order are read off
vector-Jacobian products.

g = vjp(y, x, u) = Jᵀ u is linear in the upstream u. Put in for u the identity E of shape
y.shape + y.shape, read as a batch of unit upstreams (leading axes first): every node that
depends on u gains y's axes in front, and g becomes J itself, shape y.shape + x.shape (numerator
layout, as jax.jacobian). Nodes that do not depend on u keep their shape, and NumPy broadcasting
aligns them from the right. Each op says how it batches (Op.batch); entrywise ops need nothing.
An op that does not say is refused, never guessed.
"""

from __future__ import annotations

from .errors import UnsupportedError
from .node import Node, describe, topo
from .ops import core, shape
from .ops.einsum import LETTERS, einsum


def identity(s) -> Node:
    """The identity of shape s + s, E[I, J] = 1 where I = J: the outer product of one identity
    matrix per axis (printed delta_{il} delta_{jm} ...)."""
    if len(s) == 1:
        return core.eye(s[0])
    rows, cols = LETTERS[:len(s)], LETTERS[len(s):2 * len(s)]
    spec = ",".join(r + c for r, c in zip(rows, cols)) + "->" + rows + cols
    return einsum(spec, *(core.eye(k) for k in s))


def lift(a: Node, own, ndim: int, lead) -> Node:
    """A batched operand (shape lead + own) with unit axes after the batch, so that it
    broadcasts against unbatched operands of `ndim` axes as `own` did."""
    if len(own) == ndim:
        return a
    return shape.reshape(a, tuple(lead) + (1,) * (ndim - len(own)) + tuple(own))


def batch(expr: Node, u: Node, value: Node) -> Node:
    """expr with u replaced by `value` (shape lead + u.shape), every node depending on u batched
    over the leading axes lead."""
    lead = value.shape[:value.ndim - u.ndim]
    memo: dict[Node, Node] = {u: value}
    for n in topo(expr):
        if n in memo:
            continue
        deps = tuple(a in memo for a in n.args)
        if not any(deps):
            continue
        args = tuple(memo.get(a, a) for a in n.args)
        if n.op.batch is not None:
            out = n.op.batch(n, args, deps, lead)
        elif n.op.algebra is not None or n.op.sympy is not None:  # entrywise: broadcasting
            out = Node(n.op, tuple(lift(b, a.shape, n.ndim, lead) if d else a
                                   for a, b, d in zip(n.args, args, deps)), n.params)
        else:
            raise UnsupportedError(f"symgrad cannot yet take a Jacobian with more than two axes "
                                   f"through {n.op.name} ({describe(n)})")
        if out.shape != tuple(lead) + n.shape:  # pragma: no cover -- a rule's bug, said so
            raise UnsupportedError(f"internal error: batching {n.op.name} gave shape "
                                   f"{out.shape}, not {tuple(lead) + n.shape}")
        memo[n] = out
    return memo.get(expr, expr)
