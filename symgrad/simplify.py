"""simplify(): named, oriented rewrite rules applied bottom-up, memoized, to a fixed point.

Each rule lives beside the op at the root of its left side (Op.rules). Two mechanisms serve
many ops and are attached here by what an op declares, not by its name: the arithmetic normal
form (symgrad.algebra: like terms, SymPy scalar algebra, common matmul factors) and pulling
scalars out of linear ops.
"""

from __future__ import annotations

from collections import Counter

from . import algebra
from .errors import SymgradError
from .node import Node, topo
from .op import REGISTRY, Op
from .ops import arith, linalg

MAX_REWRITES = 200  # per node; a longer chain means two rules undo each other (a bug)

# Which rules fired, for the soundness tests (every rule must be seen doing its job).
FIRED: Counter = Counter()


def _attach_mechanisms() -> None:
    arithmetic = (arith.ADD_OP, arith.SUB_OP, arith.NEG_OP, arith.MUL_OP, arith.DIV_OP,
                  arith.POW_OP)
    for op in arithmetic:  # the normal form already moves their scalars
        op.rules.append(("arith-normal-form", algebra.normalize))
    for op in REGISTRY.values():
        if op not in arithmetic and (op.linear or op in (linalg.MATMUL, linalg.OUTER)):
            op.rules.insert(0, ("pull-scalar", algebra.pull_scalars))


_attach_mechanisms()


def rules() -> list[tuple[Op, str]]:
    return [(op, name) for op in REGISTRY.values() for name, _ in op.rules]


class _Simplifier:
    def __init__(self) -> None:
        self.memo: dict[Node, Node] = {}
        self.active: set[Node] = set()

    def run(self, root: Node) -> Node:
        # Children first (iterative, so deep expressions are fine); simplified subgraphs are
        # not walked again, which keeps a rewrite's cost local to what it created.
        for n in topo(root, leaf=self.memo.__contains__):
            if n not in self.memo:
                out = self.memo[n] = self.node(n)
                self.memo.setdefault(out, out)  # a simplified node is a fixed point
        return self.memo[root]

    def node(self, n: Node) -> Node:
        if n in self.active:
            raise SymgradError(f"internal error: rules on {n.op.name} rewrite in a cycle")
        self.active.add(n)
        try:
            return self._node(n)
        finally:
            self.active.discard(n)

    def _node(self, n: Node) -> Node:
        args = tuple(self.memo[a] if a in self.memo else self.run(a) for a in n.args)
        cur = n if args == n.args else Node(n.op, args, n.params)
        for _ in range(MAX_REWRITES):
            if cur in self.memo and cur is not n:
                return self.memo[cur]
            new = self.rewrite(cur)
            if new is None:
                return cur
            if new.shape != cur.shape:
                raise SymgradError(  # a rule bug; refuse rather than return a wrong shape
                    f"internal error: a {cur.op.name} rule changed the shape "
                    f"{cur.shape} to {new.shape}"
                )
            cur = self.run(new) if new is not cur else cur
        raise SymgradError(f"internal error: rules on {cur.op.name} did not reach a fixed point")

    def rewrite(self, n: Node) -> Node | None:
        for name, fn in n.op.rules:
            out = fn(n)
            if out is not None and out is not n:
                FIRED[name] += 1
                return out
        return None


def simplify(expr):
    """Rewrite `expr` to its simplest form by the rule table (same value, same shape).

    A list of expressions is simplified together, sharing the work on common parts."""
    from .ops.core import as_node

    s = _Simplifier()
    if isinstance(expr, (list, tuple)):
        return [s.run(as_node(e)) for e in expr]
    return s.run(as_node(expr))
