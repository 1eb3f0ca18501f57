"""The op registry: each operator is declared once, with every rule the engine needs.

Printer, evaluator, differentiator, simplifier, explicit-form lowering and the tests all read
these declarations; none of them branches on op names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UnsupportedError

if TYPE_CHECKING:
    from .node import Node

# Rewrite rule: node -> replacement node, or None when it does not apply.
Rule = tuple[str, Callable[["Node"], "Node | None"]]


@dataclass(frozen=True, eq=False)
class Op:
    name: str
    # (args, params) -> shape; raises ShapeError naming the operands.
    shape: Callable[[tuple, tuple], tuple]
    # (node, cotangent, needs: tuple[bool]) -> per-argument cotangents (None where not needed).
    # Written as if shapes matched: the reverse-mode driver sums each to its argument's shape.
    vjp: Callable[[Node, Node, tuple], tuple] | None = None
    # (node, printer) -> (text, precedence); the printer supplies the tokens of its style.
    print: Callable[[Any, Any], tuple[str, int]] | None = None
    # (node, argument values, sizes) -> NumPy array.
    numpy: Callable[[Node, list, dict], Any] | None = None
    # Rewrite rules whose left side has this op at the root, applied by simplify().
    rules: list[Rule] = field(default_factory=list)
    # node -> the same value with broadcasts and sums as products with ones vectors.
    explicit: Callable[[Node], Node] | None = None
    # () -> list of test cases: (build(*vars) -> Node, [(shape, domain), ...]).
    cases: Callable[[], list] | None = None
    # Elementwise ops map to a SymPy function of one scalar (scalar algebra in simplify).
    sympy: Any = None
    linear: bool = False  # f(a x) = a f(x) for scalar a: scalars pull out of it
    # (node, argument handles, backend emitter) -> the op's generated code (symgrad.codegen):
    # a Python expression (str, or (str, precedence), or emitter.code(...)), or an equivalent
    # Node to generate instead (the expert's peepholes: G @ 1 -> G.sum(axis=1), ...).
    code: Callable[[Node, list, Any], Any] | None = None

    def __repr__(self) -> str:
        return f"Op({self.name})"


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in REGISTRY:
        raise UnsupportedError(f"operator {op.name!r} is already declared")
    REGISTRY[op.name] = op
    return op


def rule(op: Op, name: str):
    """Decorator: declare a rewrite rule rooted at `op`."""

    def deco(fn):
        op.rules.append((name, fn))
        return fn

    return deco

# Printing precedences (one table): an argument printed below its slot's minimum gets parens.
ADD, NEG, HAD, PROD, POSTFIX, FRAC, ATOM = 10, 15, 18, 20, 90, 95, 100
