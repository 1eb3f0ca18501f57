"""explicit(): every broadcast and every axis sum written as a product with ones vectors."""

from __future__ import annotations

from .node import Node, topo
from .ops.core import as_node


def explicit(expr) -> Node:
    """W X + b gives W X + b 1ₖᵀ; sum(G, axis=0) gives Gᵀ 1ₙ; the value is unchanged."""
    expr = as_node(expr)
    memo: dict[Node, Node] = {}
    for n in topo(expr):
        args = tuple(memo[a] for a in n.args)
        m = n if args == n.args else Node(n.op, args, n.params)
        memo[n] = n.op.explicit(m) if n.op.explicit else m
    return memo[expr]
