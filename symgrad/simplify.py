"""simplify(): named, oriented rewrite rules applied bottom-up, memoized, to a fixed point.

Each rule lives beside the op at the root of its left side (Op.rules). Two mechanisms serve
many ops and are attached here by what an op declares, not by its name: the arithmetic normal
form (symgrad.algebra: like terms, SymPy scalar algebra, common matmul factors; and
symgrad.hadamard: multiplying out where that is shorter) and pulling scalars out of linear ops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import overload

from . import algebra, hadamard
from .errors import SymgradError
from .node import Node, topo
from .op import REGISTRY, Op
from .ops import arith
from .ops.core import as_node
from .ops.shape import broadcast_to, reshape

MAX_REWRITES = 200  # per node; a longer chain means two rules undo each other (a bug)

# Which rules fired, for the soundness tests (every rule must be seen doing its job).
FIRED: Counter = Counter()
FIRED_AT: Counter = Counter()  # (op name, rule name) -> times it rewrote a node
WORK: Counter = Counter()  # "visits": nodes the rules were tried on, for the complexity tests


def _mechanisms(op: Op, run) -> tuple[list, list]:
    """The shared mechanisms an op takes part in, by what it declares, as (rules to try before
    the op's own, rules after). Composed at call time, so an op registered late gets them too;
    `run` is the simplifier's own memoized entry (a rule never calls the engine itself)."""
    if op.algebra is not None:  # the normal form already moves their scalars
        after = [("arith-normal-form", algebra.normalize)]
        if op.algebra in ("mul", "div"):  # a quotient reads through its deferred numerator
            after.append(("hadamard-cancel", hadamard.cancel))
        elif op.algebra in ("add", "sub"):
            after.append(("collect-expanded", hadamard.collect))
        return [], after
    before = [("pull-scalar", algebra.pull_scalars)] if op.linear or op.bilinear else []
    after = [("involution-sum", lambda n: _involution_sum(n, run))] if op.involution else []
    return before, after


def op_rules(op: Op, run=None) -> list:
    """Every rule rooted at `op`: the mechanisms it declares around its own rules."""
    before, after = _mechanisms(op, run)
    return before + op.rules + after


def _count(e: Node, op: Op) -> int:
    return sum(1 for m in topo(e) if m.op is op)


def _involution_sum(n: Node, run) -> Node | None:
    """f(A ± B) = f(A) ± f(B) for a linear involution f (the transpose), when that leaves fewer
    f's: (A + Aᵀ)ᵀ = A + Aᵀ, (diag(y) + Aᵀ)ᵀ = diag(y) + A, but (X W + b)ᵀ stays. The new terms
    come out simplified and sorted (positive first), so a sum that is its own image is a fixed
    point: simplify(Hᵀ) is H for the Hessians of symgrad.jacobian."""
    f, a = n.op, n.args[0]
    if a.op.algebra not in ("add", "sub"):
        return None
    old, terms, stack = [], [], [(1, a)]
    while stack:
        sign, e = stack.pop()
        if e.op.algebra in ("add", "sub"):
            stack += [(sign, e.args[0]), (sign if e.op.algebra == "add" else -sign, e.args[1])]
            continue
        old.append((sign, e))
        if e.ndim == 0:
            terms.append((sign, e))
        elif e.ndim == 1:  # broadcast along rows, 1 xᵀ: transposed, x 1ᵀ
            terms.append((sign, broadcast_to(reshape(e, (e.shape[0], 1)), n.shape)))
        else:
            terms.append((sign, run(Node(f, (e,), n.params))))

    def key(t):
        return (-t[0], t[1].sort_key)

    terms.sort(key=key)
    out = terms[0][1] if terms[0][0] > 0 else arith.neg(terms[0][1])
    for sign, t in terms[1:]:
        out = arith.add(out, t) if sign > 0 else arith.sub(out, t)
    own_image = sorted(old, key=key) == terms
    return out if own_image or _count(out, f) < _count(n, f) else None


def rules() -> list[tuple[Op, str]]:
    return [(op, name) for op in REGISTRY.values() for name, _ in op_rules(op)]


# A sum inside a sum (a product inside a product) that nothing else uses needs no normal form
# of its own: its parent's normal form reads through it. Normalizing every partial sum of a
# T-term gradient (every partial product of a depth-d chain rule) rebuilt all its terms each
# time, quadratic in T (cubic in d); deferring them leaves one normal form per chain.
_FAMILY = {"add": "sum", "sub": "sum", "neg": "sum", "mul": "product", "div": "product"}


def _family(n: Node) -> str | None:
    return _FAMILY.get(n.op.algebra) if n.ndim > 0 else None


class _Simplifier:
    def __init__(self) -> None:
        self.memo: dict[Node, Node] = {}
        self.active: set[Node] = set()
        self.deferred: dict[Node, tuple[Node, Node]] = {}  # node -> (its one parent, args done)
        self.rules: dict[Op, list] = {}  # op_rules per op, composed once per call

    def run(self, root: Node) -> Node:
        # Children first (iterative, so deep expressions are fine); simplified subgraphs are
        # not walked again, which keeps a rewrite's cost local to what it created.
        order = topo(root, leaf=self.memo.__contains__)
        sole = self._sole_parents(order)
        for n in order:
            if n in self.memo:
                continue
            p = sole.get(n)
            fam = _family(n)
            if p is not None and n is not root and fam is not None and fam == _family(p):
                args = self._args(n)
                m = n if args == n.args else Node(n.op, args, n.params)
                if not self._own_rule_fires(m):  # only the normal form waits for the parent
                    algebra.terms(m)  # read bottom-up: the parent's reading never recurses deep
                    self.deferred[n] = (p, m)
                    continue
            out = self.memo[n] = self.node(n)
            self.memo.setdefault(out, out)  # a simplified node is a fixed point
        return self.memo[root]

    def _sole_parents(self, order: list[Node]) -> dict[Node, Node]:
        """Each node of `order` used exactly once among `order`, mapped to that user."""
        uses: Counter = Counter()
        user: dict[Node, Node] = {}
        for m in order:
            if m in self.memo:
                continue
            for a in m.args:
                uses[a] += 1
                user[a] = m
        return {a: m for a, m in user.items() if uses[a] == 1 and a.shape == m.shape}

    @staticmethod
    def _own_rule_fires(m: Node) -> bool:
        """Would a named rule of m's op (not a shared mechanism) rewrite m?"""
        return any(fn(m) not in (None, m) for _, fn in m.op.rules)

    def _args(self, n: Node) -> tuple[Node, ...]:
        out = []
        for a in n.args:
            if a in self.memo:
                out.append(self.memo[a])
            elif a in self.deferred and self.deferred[a][0] is n:
                out.append(self.deferred[a][1])
            else:
                out.append(self.run(a))
        return tuple(out)

    def node(self, n: Node) -> Node:
        if n in self.active:
            raise SymgradError(f"internal error: rules on {n.op.name} rewrite in a cycle")
        self.active.add(n)
        try:
            return self._node(n)
        finally:
            self.active.discard(n)

    def _node(self, n: Node) -> Node:
        WORK["visits"] += 1
        args = self._args(n)
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
        rules = self.rules.get(n.op)
        if rules is None:
            rules = self.rules[n.op] = op_rules(n.op, self.run)
        for name, fn in rules:
            out = fn(n)
            if out is not None and out is not n:
                FIRED[name] += 1
                FIRED_AT[(n.op.name, name)] += 1
                return out
        return None


@overload
def simplify(expr: Node | float | int) -> Node: ...
@overload
def simplify(expr: Sequence[Node]) -> list[Node]: ...
def simplify(expr):
    """Rewrite `expr` to its simplest form by the rule table (same value, same shape).

    A list of expressions is simplified together, sharing the work on common parts."""
    s = _Simplifier()
    with algebra.session():
        if isinstance(expr, (list, tuple)):
            return [s.run(as_node(e)) for e in expr]
        return s.run(as_node(expr))
