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

MAX_REWRITES = 200  # per node; a longer chain means two rules undo each other (a bug)

# Which rules fired, for the soundness tests (every rule must be seen doing its job).
FIRED: Counter = Counter()
FIRED_AT: Counter = Counter()  # (op name, rule name) -> times it rewrote a node


def _mechanisms(op: Op) -> list:
    """The shared mechanisms an op takes part in, by what it declares (read at call time, so
    an op registered late gets them too)."""
    if op.algebra is not None:  # the normal form already moves their scalars
        return [("arith-normal-form", algebra.normalize)]
    if op.linear or op.bilinear:
        return [("pull-scalar", algebra.pull_scalars)]
    return []


def op_rules(op: Op) -> list:
    """Every rule rooted at `op`: pulling scalars first, the op's own rules, the normal form."""
    mech = _mechanisms(op)
    if op.algebra is not None:
        return op.rules + mech
    return mech + op.rules


def rules() -> list[tuple[Op, str]]:
    return [(op, name) for op in REGISTRY.values() for name, _ in op_rules(op)]


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
        for name, fn in op_rules(n.op):
            out = fn(n)
            if out is not None and out is not n:
                FIRED[name] += 1
                FIRED_AT[(n.op.name, name)] += 1
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
