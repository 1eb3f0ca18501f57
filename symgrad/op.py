"""The op registry: each operator is declared once, with every rule the engine needs.

Printer, parser, evaluator, code generator, differentiator, Jacobian reader, simplifier,
explicit-form lowering and the tests all read these declarations; none of them keeps a table
of its own keyed by op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .errors import UnsupportedError

if TYPE_CHECKING:
    from .node import Node

# Rewrite rule: node -> replacement node, or None when it does not apply.
Rule = tuple[str, Callable[["Node"], "Node | None"]]


class Prec(IntEnum):
    """Printing precedence: an argument printed below its slot's minimum gets parentheses."""

    ADD = 10
    NEG = 15
    HAD = 18
    PROD = 20
    POSTFIX = 90
    FRAC = 95
    ATOM = 100


ADD, NEG, HAD, PROD, POSTFIX, FRAC, ATOM = (Prec.ADD, Prec.NEG, Prec.HAD, Prec.PROD,
                                            Prec.POSTFIX, Prec.FRAC, Prec.ATOM)


@dataclass(frozen=True)
class Spelling:
    """How LaTeX writes an op that reads as a named function, for the printer and the parser.

    The printer writes `latex` (Unicode: `unicode`); the parser accepts the op's name and every
    word of `words` as `\\operatorname{w}`, `\\mathrm{w}` or `\\text{w}`, and as the command
    `\\w` when LaTeX has that command (`\\exp`, `\\det`, `\\ln`).
    """

    latex: str
    unicode: str
    words: tuple[str, ...] = ()
    # What a subscript on the name says: None (nothing: no subscript), "axis" (the axis it runs
    # along: softmax_{row}), "shape" (the shape it builds: unvec_{p \times q}).
    subscript: str | None = None
    # (x), (x, axis) or (x, shape) -> Node; None: Node(op, (x,)).
    build: Callable[..., Node] | None = None


@dataclass(frozen=True, eq=False)
class Op:
    name: str
    # (args, params) -> shape; raises ShapeError naming the operands.
    shape: Callable[[tuple, tuple], tuple]
    # (node, printer) -> (text, precedence); the printer supplies the tokens of its style.
    print: Callable[[Any, Any], tuple[str, int]] | None = None
    # (node, argument values, sizes) -> NumPy array: the reference semantics.
    numpy: Callable[[Node, list, dict], Any] | None = None
    # (node, cotangent, needs: tuple[bool]) -> per-argument cotangents (None where not needed).
    # Written as if shapes matched: the reverse-mode driver sums each to its argument's shape.
    # None for leaves; an op that is not differentiable says so with `differentiable=False`.
    vjp: Callable[[Node, Node, tuple], tuple] | None = None
    # Rewrite rules whose left side has this op at the root, applied by simplify().
    rules: list[Rule] = field(default_factory=list)
    # node -> the same value with broadcasts and sums as products with ones vectors.
    explicit: Callable[[Node], Node] | None = None
    # () -> list of test cases: (build(*vars) -> Node, [(shape, domain), ...]).
    cases: Callable[[], list] | None = None
    # Elementwise ops map to a SymPy function of one scalar (scalar algebra in simplify).
    sympy: Any = None
    linear: bool = False  # f(a x) = a f(x) for scalar a: scalars pull out of it
    bilinear: bool = False  # f(a x, b y) = a b f(x, y): scalars pull out of each argument
    involution: bool = False  # f(f(x)) = x, and linear: f distributes over sums (simplify)
    # The arithmetic normal form (symgrad.algebra) reads these ops as sums and products.
    algebra: str | None = None  # "add" "sub" "neg" "mul" "div" "pow"
    # (node, argument handles, backend emitter) -> the op's generated code (symgrad.codegen):
    # a Python expression (str, or (str, precedence), or emitter.code(...)), or an equivalent
    # Node to generate instead (the expert's peepholes: G @ 1 -> G.sum(axis=1), ...).
    code: Callable[[Node, list, Any], Any] | None = None
    # The LaTeX function spelling, read by the printer and the parser (None: an operator or
    # a notation of its own, such as A B, A^{-1}, \mathbf{1}_n, which the grammar knows).
    spelling: Spelling | None = None
    # (node, printer) -> (text, precedence) of the node's transpose, where a form of its own
    # reads better than (...)^T (A^{-T} for an inverse).
    print_transposed: Callable[[Any, Any], tuple[str, int]] | None = None
    # (reader, node) -> M with vec(node) = M vec(u), for a node linear in the reader's u
    # (symgrad.jacobian; the reader supplies M of the arguments and the vec algebra).
    matrix_form: Callable[[Any, Node], Node] | None = None
    # Symmetry preservation, so simplify drops transposes of symmetric matrices: "closed"
    # (a symmetric matrix when its matrix arguments are), or node -> True/False/"closed".
    symmetric: str | Callable[[Node], bool | str] | None = None
    differentiable: bool = True  # False: a constant (leaf), no VJP needed
    # (node, index writer, indices) -> (text, precedence) of the node's entry at the indices,
    # for index notation (symgrad.tensor_print); entrywise ops need none.
    entry: Callable[[Node, Any, tuple], tuple[str, int]] | None = None
    # (node, new args, which args are batched, lead) -> the node over args batched along the
    # new leading axes `lead` (symgrad.batching, Jacobians beyond matrices); entrywise ops need
    # none.
    batch: Callable[[Node, tuple, tuple, tuple], Node] | None = None
    # () -> test cases as `cases`, over arrays of three and more axes (tests/test_tensor_vjp.py):
    # printed in index notation, which the LaTeX parser does not read yet.
    tensor_cases: Callable[[], list] | None = None

    def __repr__(self) -> str:
        return f"Op({self.name})"

    def __reduce__(self):  # pickled by name: the registry holds the one Op of that name
        return (lookup, (self.name,))


REGISTRY: dict[str, Op] = {}


class _Later:
    """The constructors of op families declared later (and the scalar algebra), by name, read
    at call time: how a rule of transpose builds a matmul without importing the module that
    imports it. Op families load in one fixed order (symgrad.ops) and import only earlier ones;
    each provides its constructors here."""

    def __getattr__(self, name: str):
        raise UnsupportedError(f"internal error: {name!r} was never provided")


later = _Later()


def provide(**named: Callable) -> None:
    """Make constructors or helpers available as `later.<name>`."""
    later.__dict__.update(named)

# Every op prints, evaluates and has test cases; an op with arguments differentiates too.
_REQUIRED = ("print", "numpy")


def register(op: Op) -> Op:
    """Declare an op. An incomplete declaration is refused, naming what is missing."""
    if op.name in REGISTRY:
        raise UnsupportedError(f"operator {op.name!r} is already declared")
    missing = [f for f in _REQUIRED if getattr(op, f) is None]
    if op.differentiable and (op.cases or op.tensor_cases) is not None and op.vjp is None:
        missing.append("vjp")
    if missing:
        raise UnsupportedError(
            f"operator {op.name!r} is incomplete: it declares no {', '.join(missing)} "
            f"(every op needs print and numpy; a differentiable op with arguments needs vjp)"
        )
    REGISTRY[op.name] = op
    return op


def lookup(name: str) -> Op:
    """The op declared under `name`."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnsupportedError(f"no operator {name!r} is declared") from None


def rule(op: Op, name: str):
    """Decorator: declare a rewrite rule rooted at `op`."""

    def deco(fn):
        op.rules.append((name, fn))
        return fn

    return deco
