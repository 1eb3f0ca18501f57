"""Hypothesis strategies for random, well-shaped symgrad expressions.

Generation is *shape-directed*: ``expressions(shape)`` builds an expression of exactly the
requested shape, choosing at each node only among productions whose operand shapes are known
to fit (tables computed once, below, from pure-Python copies of NumPy's broadcasting and
matmul rules). Nothing is generated and then filtered, and ``ShapeError`` is never caught.

The expressions are DAGs, not only trees: nodes are interned, so equal subtrees are shared,
and a "reuse" production picks a subexpression built earlier in the same example.

``exclude=`` removes node kinds, operators or named CONSTRUCTS from the grammar (they are
never proposed, so nothing is rejected); KNOWN_BUG_EXCLUSIONS lists the constructs that trip
currently known symgrad bugs.

Importing this module registers and loads the Hypothesis profiles:

* ``ci`` (the default): derandomized, no deadline, fixed ``max_examples``, ``print_blob``;
  every run of the test suite draws the same examples. ``ci_examples(n)`` sets a test's
  example count under this profile only.
* ``explore``: random, 1000 examples per test; select it with ``HYPOTHESIS_PROFILE=explore``
  to hunt for new bugs locally.

Typical use::

    from strategies import ci_examples, expressions, numeric_point, seeds

    @ci_examples(100)
    @given(expressions(exclude=KNOWN_BUG_EXCLUSIONS), seeds())
    def test_something(e, seed):
        sizes, env = numeric_point([e], seed)
        ...
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.errors import ShapeError, SymgradError
from symgrad.node import Node
from symgrad.op import REGISTRY
from symgrad.ops.core import variable
from symgrad.shapes import broadcast_shapes
from symgrad.testing import random_env, random_sizes

# ---- Hypothesis profiles -----------------------------------------------------------------
CI_MAX_EXAMPLES = 60

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=CI_MAX_EXAMPLES,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    deadline=None,
    max_examples=1000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def ci_examples(n: int) -> settings:
    """Per-test settings: `n` examples under the "ci" profile; other profiles keep theirs."""
    return settings(max_examples=n) if PROFILE == "ci" else settings()

# ---- shapes ------------------------------------------------------------------------------
N, M = sg.dims("n m")

Shape = tuple

#: The shapes of the variables, the shapes a test may ask for.
SHAPES: tuple[Shape, ...] = ((), (N,), (N, 1), (1, M), (N, M), (M, N), (M,))
#: Intermediate shapes reachable by transposes and products (square ones feed trace).
EXTRA_SHAPES: tuple[Shape, ...] = ((1, N), (M, 1), (N, N), (M, M))
UNIVERSE: tuple[Shape, ...] = SHAPES + EXTRA_SHAPES


def broadcast_shape(a: Shape, b: Shape) -> Shape | None:
    """NumPy broadcasting of two shapes (symgrad's rule), or None where they do not broadcast;
    used to tabulate which operand shapes fit before any expression is drawn."""
    try:
        return broadcast_shapes(a, b)
    except ShapeError:
        return None


def matmul_shape(a: Shape, b: Shape) -> Shape | None:
    """numpy.matmul on 1-D and 2-D operands (a 1-D operand is promoted, then squeezed)."""
    if not a or not b:
        return None
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[1] != b2[0]:
        return None
    out = (a2[0],) if len(a) == 2 else ()
    return out + ((b2[1],) if len(b) == 2 else ())


def reduced_shape(shape: Shape, axis, keepdims: bool) -> Shape:
    axes = range(len(shape)) if axis is None else [axis % len(shape)]
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _axes_for(shape: Shape) -> list:
    return [None] + [ax for ax in (0, 1, -1) if -len(shape) <= ax < len(shape)]


# target shape -> operand shape pairs (elementwise binary ops, with broadcasting)
BROADCAST_PAIRS: dict[Shape, list[tuple[Shape, Shape]]] = {
    s: [(a, b) for a, b in itertools.product(UNIVERSE, repeat=2) if broadcast_shape(a, b) == s]
    for s in UNIVERSE
}
# target shape -> operand shape pairs of @ (1-D operands included)
MATMUL_PAIRS: dict[Shape, list[tuple[Shape, Shape]]] = {
    s: [(a, b) for a, b in itertools.product(UNIVERSE, repeat=2) if matmul_shape(a, b) == s]
    for s in UNIVERSE
}
# target shape -> (operand shape, axis, keepdims) of sum / mean / logsumexp
REDUCTIONS: dict[Shape, list[tuple[Shape, object, bool]]] = {
    s: [(a, ax, kd) for a in UNIVERSE for ax in _axes_for(a) for kd in (False, True)
        if reduced_shape(a, ax, kd) == s]
    for s in UNIVERSE
}
# target shape -> the shape whose transpose it is (.T is a no-op on 0-D and 1-D)
TRANSPOSE_OF: dict[Shape, Shape] = {
    s: (s[::-1] if len(s) == 2 else s) for s in UNIVERSE if s[::-1] in UNIVERSE
}
SQUARE: tuple[Shape, ...] = tuple(s for s in UNIVERSE if len(s) == 2 and s[0] == s[1])

# ---- variables and leaves ----------------------------------------------------------------


@dataclass(frozen=True)
class Leaves:
    """The variables an expression is built from, by shape.

    Shapes without a variable of their own (``(1, n)``, ``(n, n)``, ...) get small derived
    leaves: transposes of a row/column, or a product of two variables.
    """

    variables: dict

    @classmethod
    def default(cls) -> Leaves:
        return cls({
            (): (sg.scalar("s"), sg.scalar("t")),
            (N,): (sg.vector("x", N),),
            (M,): (sg.vector("y", M),),
            (N, 1): (sg.matrix("c", N, 1),),
            (1, M): (sg.matrix("r", 1, M),),
            (N, M): (sg.matrix("A", N, M), sg.matrix("B", N, M)),
            (M, N): (sg.matrix("C", M, N),),
        })

    def options(self, shape: Shape) -> Sequence[Node]:
        v = self.variables
        if shape in v:
            return v[shape]
        derived: list[Node] = []
        if shape[::-1] in v and len(shape) == 2:
            derived += [x.T for x in v[shape[::-1]]]
        for a, b in MATMUL_PAIRS.get(shape, ()):
            if a in v and b in v and len(a) == len(b) == 2:
                derived += [x @ y for x in v[a] for y in v[b]]
        if not derived:
            raise ValueError(f"no leaf of shape {shape}")
        return derived


DEFAULT_LEAVES = Leaves.default()

# ---- productions ---------------------------------------------------------------------------


def _exp_tanh(x):
    return sg.exp(sg.tanh(x))


#: Shape-preserving unary maps: (label, function). Bounded or tame, so values stay finite.
UNARY: tuple[tuple[str, Callable], ...] = (
    ("neg", lambda x: -x),
    ("tanh", sg.tanh),
    ("sigmoid", sg.sigmoid),
    ("sin", sg.sin),
    ("softplus", sg.softplus),
    ("exp(tanh)", _exp_tanh),
    ("square", lambda x: x**2),
)

#: Safe denominators: each is >= 1 or > 0 everywhere.
DENOMINATORS: tuple[tuple[str, Callable], ...] = (
    ("1+b*b", lambda b: 1 + b * b),
    ("exp(b)", lambda b: sg.exp(sg.tanh(b))),
)

BINARY: tuple[tuple[str, Callable], ...] = (
    ("+", lambda a, b: a + b),
    ("-", lambda a, b: a - b),
    ("*", lambda a, b: a * b),
    ("/", lambda a, b: a / b),  # the right operand is wrapped in a safe denominator
)

#: Python numbers broadcast against an expression.
CONSTANTS = (2, 0.5, -1.5, 3)
WITH_CONSTANT: tuple[tuple[str, Callable], ...] = (
    ("k*e", lambda k, e: k * e),
    ("e+k", lambda k, e: e + k),
    ("k-e", lambda k, e: k - e),
    ("e/k", lambda k, e: e / k),
)

REDUCERS: tuple[tuple[str, Callable], ...] = (
    ("sum", sg.sum),
    ("mean", sg.mean),
    ("logsumexp", sg.logsumexp),
)

#: The kinds of node the generator chooses among. "op" draws any op of the registry through
#: its declared test cases (OP_CASES below), so a new op is in random expressions at once.
KINDS = ("unary", "binary", "constant", "transpose", "matmul", "reduce", "softmax", "trace",
         "op", "reuse")


# ---- the registry's ops, through their declared test cases (Op.cases) ---------------------
# A case's concrete sizes map onto the universe's: 3 -> n, 4 -> m (1 stays 1), so a case of
# shapes (3, 4), (4,) becomes one of (n, m), (m,).
_CASE_SIZES = {3: N, 4: M, 1: 1}


def _domain_wrap(domain: str, shape: Shape) -> Callable[[Node], Node] | None:
    """Makes any operand a valid argument for an op's test domain (None: no such wrapper)."""
    if domain == "any":
        return lambda b: b
    if domain in ("positive", "nonzero", "away0"):
        return lambda b: 1 + b * b
    if domain in ("invertible", "posdet") and len(shape) == 2 and shape[0] == shape[1]:
        return lambda b: b @ b.T + sg.eye(shape[0])
    return None


def _op_cases() -> dict[Shape, list[tuple[str, Callable, tuple]]]:
    """target shape -> [(op name, build, ((operand shape, wrap), ...)), ...] over the registry."""
    out: dict[Shape, list] = {}
    for name, op in sorted(REGISTRY.items()):
        for build, specs in (op.cases() if op.cases else []):
            try:
                shapes = [tuple(_CASE_SIZES[d] for d in shp) for shp, _ in specs]
            except KeyError:
                continue  # a size the universe has no counterpart for
            wraps = [_domain_wrap(dom, shp) for shp, (_, dom) in zip(shapes, specs)]
            if any(w is None for w in wraps) or any(shp not in UNIVERSE for shp in shapes):
                continue
            try:
                probe = build(*(variable(f"p{i}", *shp) for i, shp in enumerate(shapes)))
            except SymgradError:
                continue  # the case fixes a concrete size (reshape to (1, 4)): not mappable
            if probe.shape in UNIVERSE and probe.op is op:
                out.setdefault(probe.shape, []).append((name, build, tuple(zip(shapes, wraps))))
    return out


OP_CASES = _op_cases()


def _is_row(s: Shape) -> bool:
    return len(s) == 2 and s[0] == 1


#: Named constructs that `exclude=` accepts besides kinds and operator labels, each a
#: predicate on (operator label, shapes): the operand shapes, or for a reduction (source
#: shape, result shape). Meant for keeping a property test running around a known bug (say
#: which, in a TODO) while the bug has its own xfail reproducer.
CONSTRUCTS: dict[str, Callable[[str, tuple[Shape, ...]], bool]] = {
    # an inner product of two 1-D vectors: a scalar that is a matmul
    "dot": lambda op, shapes: op == "@" and all(len(s) == 1 for s in shapes),
    # a scalar operand of + or - against a non-scalar one
    "scalar+-array": lambda op, shapes: (op in ("+", "-") and any(s == () for s in shapes)
                                         and any(s != () for s in shapes)),
    # a (1, k) row and a (k,) vector meet in one op: as the two operands of an elementwise
    # op, or as the operand and the result of a reduction over the row's unit axis
    "row-vector": lambda op, shapes: (any(_is_row(s) for s in shapes)
                                      and any(len(s) == 1 for s in shapes)),
    # sigmoid or softplus of a scalar
    "scalar-sigmoid": lambda op, shapes: op in ("sigmoid", "softplus") and shapes == ((),),
}

#: Constructs that currently trip known symgrad bugs, for tests that simplify (so gradients,
#: explicit forms and printing too). Each bug has a strict-xfail reproducer in
#: tests/test_random_expressions.py; when one of those starts passing, delete its line here.
KNOWN_BUG_EXCLUSIONS: tuple[str, ...] = ()

#: Every name `exclude=` accepts.
EXCLUDABLE = frozenset(KINDS) | {lbl for table in (UNARY, BINARY, WITH_CONSTANT, REDUCERS)
                                 for lbl, _ in table} | set(CONSTRUCTS) | {
    name for cases in OP_CASES.values() for name, _, _ in cases}


class _Builder:
    """Builds one expression, drawing every choice from Hypothesis (so examples shrink).

    Every option list is filtered by `exclude` before drawing, so no drawn example is ever
    rejected: an excluded construct is simply never proposed.
    """

    def __init__(self, draw, leaves: Leaves, exclude: frozenset, leaf_odds: int) -> None:
        unknown = exclude - EXCLUDABLE
        if unknown:
            raise ValueError(f"cannot exclude {sorted(unknown)}; known: {sorted(EXCLUDABLE)}")
        self.draw = draw
        self.leaves = leaves
        self.exclude = exclude
        self.leaf_odds = leaf_odds
        self.pool: dict[Shape, list[Node]] = {}  # built so far, by shape (for DAG reuse)
        ok = self.allowed
        self.unary = {s: [(lbl, f) for lbl, f in UNARY if ok(lbl, (s,))] for s in UNIVERSE}
        self.with_constant = [(lbl, f) for lbl, f in WITH_CONSTANT if ok(lbl)]
        self.reductions = {  # shape -> [(label, fn, (source shape, axis, keepdims)), ...]
            s: [(lbl, f, src) for lbl, f in REDUCERS for src in REDUCTIONS[s]
                if ok(lbl, (src[0], s))]
            for s in UNIVERSE
        }
        self.binary = {  # shape -> [(label, fn, (shape_a, shape_b)), ...]
            s: [(lbl, f, ab) for lbl, f in BINARY for ab in BROADCAST_PAIRS[s] if ok(lbl, ab)]
            for s in UNIVERSE
        }
        self.matmul = {s: [ab for ab in MATMUL_PAIRS[s] if ok("@", ab)] for s in UNIVERSE}
        self.op_cases = {s: [c for c in cases if ok(c[0], tuple(sh for sh, _ in c[2]))]
                         for s, cases in OP_CASES.items()}

    def allowed(self, label: str, shapes: tuple[Shape, ...] = ()) -> bool:
        if label in self.exclude:
            return False
        return not any(CONSTRUCTS[c](label, shapes) for c in self.exclude & CONSTRUCTS.keys())

    def choose(self, seq):
        return self.draw(st.sampled_from(seq))

    def kinds_for(self, shape: Shape) -> list[str]:
        available = {
            "unary": bool(self.unary[shape]),
            "binary": bool(self.binary[shape]),
            "constant": bool(self.with_constant),
            "transpose": shape in TRANSPOSE_OF,
            "matmul": bool(self.matmul[shape]),
            "reduce": bool(self.reductions[shape]),
            "softmax": shape != (),
            "trace": shape == (),
            "op": bool(self.op_cases.get(shape)),
            "reuse": bool(self.pool.get(shape)),
        }
        return [k for k in KINDS if available[k] and k not in self.exclude]

    def build(self, shape: Shape, depth: int) -> Node:
        kinds = self.kinds_for(shape)
        if depth <= 0 or not kinds or self.draw(st.integers(0, self.leaf_odds)) == 0:
            return self.choose(list(self.leaves.options(shape)))
        node = self.compound(self.choose(kinds), shape, depth - 1)
        self.pool.setdefault(shape, []).append(node)
        return node

    def compound(self, kind: str, shape: Shape, depth: int) -> Node:
        b = self.build
        if kind == "unary":
            _, f = self.choose(self.unary[shape])
            return f(b(shape, depth))
        if kind == "binary":
            label, f, (sa, sb) = self.choose(self.binary[shape])
            left, right = b(sa, depth), b(sb, depth)
            if label == "/":
                right = self.choose(DENOMINATORS)[1](right)
            return f(left, right)
        if kind == "constant":
            _, f = self.choose(self.with_constant)
            return f(self.choose(CONSTANTS), b(shape, depth))
        if kind == "transpose":
            return b(TRANSPOSE_OF[shape], depth).T
        if kind == "matmul":
            sa, sb = self.choose(self.matmul[shape])
            return b(sa, depth) @ b(sb, depth)
        if kind == "reduce":
            _, f, (src, axis, keepdims) = self.choose(self.reductions[shape])
            return f(b(src, depth), axis=axis, keepdims=keepdims)
        if kind == "softmax":
            axis = self.choose([ax for ax in _axes_for(shape) if ax is not None])
            return sg.softmax(b(shape, depth), axis=axis)
        if kind == "trace":
            return sg.trace(b(self.choose(SQUARE), depth))
        if kind == "op":
            _, build, operands = self.choose(self.op_cases[shape])
            return build(*(wrap(b(shp, depth)) for shp, wrap in operands))
        if kind == "reuse":
            return self.choose(self.pool[shape])
        raise AssertionError(kind)  # pragma: no cover


@st.composite
def expressions(draw, shape: Shape | None = None, *, max_depth: int = 4,
                leaves: Leaves = DEFAULT_LEAVES, exclude=(), leaf_odds: int = 3,
                shapes: Sequence[Shape] = SHAPES) -> Node:
    """A random expression of `shape` (drawn from `shapes` when None), depth <= max_depth.

    `exclude` names kinds (KINDS), operator labels (UNARY, BINARY, WITH_CONSTANT, REDUCERS)
    or CONSTRUCTS never to generate. At each level a leaf is taken with probability
    1 / (leaf_odds + 1); shrinking moves toward leaves and the first option of each list.
    """
    if shape is None:
        shape = draw(st.sampled_from(list(shapes)))
    builder = _Builder(draw, leaves, frozenset(exclude), leaf_odds)
    node = builder.build(tuple(shape), max_depth)
    assert node.shape == tuple(shape), (node, node.shape, shape)  # the tables are right
    return node


@st.composite
def objectives(draw, **kw) -> tuple[Node, Node]:
    """(e, y): a random expression e and a scalar objective y built from it.

    y is sum(e), mean(e), sum(U * e) with a variable U of e's shape (named "U"), or
    sum(w * e) with w = tanh(e) + 1/2, a weight sharing e's own subexpressions (bounded and
    flat where e is large, so finite differences stay accurate). Keywords go to
    expressions(); an `exclude` naming "mean" also drops the mean objective.
    """
    e = draw(expressions(**kw))
    ways = ("sum", "mean", "U*e", "w*e")
    how = draw(st.sampled_from([w for w in ways if w not in kw.get("exclude", ())]))
    if how == "sum":
        return e, sg.sum(e)
    if how == "mean":
        return e, sg.mean(e)
    if how == "U*e":
        return e, sg.sum(variable("U", *e.shape) * e)
    return e, sg.sum((sg.tanh(e) + 0.5) * e)


def seeds() -> st.SearchStrategy[int]:
    """Seeds for NumPy generators (so numeric points are reproducible and shrinkable)."""
    return st.integers(0, 2**32 - 1)


def numeric_point(exprs, seed: int) -> tuple[dict, dict]:
    """(sizes, env): distinct random sizes and random values for the variables of `exprs`."""
    rng = np.random.default_rng(seed)
    sizes = random_sizes(exprs, rng)
    return sizes, random_env(exprs, sizes, rng)


def balanced_braces(latex: str) -> bool:
    """Do the grouping braces of a LaTeX string balance (escaped \\{ \\} ignored)?"""
    depth, i = 0, 0
    while i < len(latex):
        ch = latex[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


# ---- tensors of up to four axes (an independent, smaller grammar) --------------------------------
TB, TN, TK, TH = sg.dims("B N K H")
#: Shapes of tensor variables and intermediates: broadcasting partners, unit axes, batches.
TENSOR_UNIVERSE: tuple[Shape, ...] = (
    (), (TK,), (TN, TK), (TB, TN, TK), (TB, 1, TK), (1, TN, 1), (TH, TB, TN, TK),
    (TK, TN), (TB, TK, TN), (TB, TN, TN), (TN,), (TB, TN), (TH, TB, TN, TN), (TH, 1, TN, TK),
)


def _tensor_shape_of(build, *shapes) -> Shape | None:
    """The shape symgrad gives build(*placeholders), or None where it refuses (tables only)."""
    try:
        return build(*(variable(f"P{i}", *s) for i, s in enumerate(shapes))).shape
    except SymgradError:
        return None


def _tensor_tables() -> dict[Shape, list[tuple[str, Callable, tuple[Shape, ...]]]]:
    """target shape -> (label, build, operand shapes) of every production that fits."""
    U = TENSOR_UNIVERSE
    prods: list[tuple[str, Callable, tuple[Shape, ...]]] = []
    for a, b in itertools.product(U, repeat=2):
        prods += [("add", lambda x, y: x + y, (a, b)), ("mul", lambda x, y: x * y, (a, b)),
                  ("matmul", lambda x, y: x @ y, (a, b))]
    for a in U:
        for axes in [None, 0, -1, (0, -1), (1,)] if a else []:
            for kd in (False, True):
                prods.append(("sum", lambda x, ax=axes, kd=kd: sg.sum(x, ax, kd), (a,)))
                prods.append(("lse", lambda x, ax=axes, kd=kd: sg.logsumexp(x, ax, kd), (a,)))
        if len(a) >= 2:
            prods.append(("swapaxes", lambda x: sg.swapaxes(x, 0, -1), (a,)))
            prods.append(("softmax", lambda x: sg.softmax(x, -1), (a,)))
        if len(a) >= 3:
            prods.append(("transpose", lambda x: sg.transpose(x, (1, 0) + tuple(
                range(2, x.ndim))), (a,)))
    table: dict[Shape, list] = {s: [] for s in U}
    for label, build, shapes in prods:
        s = _tensor_shape_of(build, *shapes)
        if s in table:
            table[s].append((label, build, shapes))
    return table


TENSOR_TABLE = _tensor_tables()
TENSOR_UNARY = (sg.tanh, sg.sin, sg.sigmoid)


@st.composite
def tensor_expressions(draw, shape: Shape | None = None, max_depth: int = 3) -> Node:
    """A random expression of up to four axes with NumPy broadcasting, batched @, reductions
    over axes and tuples of axes (keepdims), softmax, transposes; shared subexpressions."""
    if shape is None:
        shape = draw(st.sampled_from([s for s in TENSOR_UNIVERSE if len(s) >= 2]))
    pool: dict[Shape, list[Node]] = {}

    def build(s: Shape, depth: int) -> Node:
        options = ["leaf"] + (["unary", "op"] if depth > 0 and TENSOR_TABLE[s] else []) + (
            ["reuse"] if pool.get(s) else [])
        kind = draw(st.sampled_from(options))
        if kind == "leaf":
            k = TENSOR_UNIVERSE.index(s)
            node = variable(f"T_{k}", *s) if s else variable("t")
        elif kind == "unary":
            node = draw(st.sampled_from(TENSOR_UNARY))(build(s, depth - 1))
        elif kind == "reuse":
            return draw(st.sampled_from(pool[s]))
        else:
            _, b, shapes = draw(st.sampled_from(TENSOR_TABLE[s]))
            node = b(*(build(t, depth - 1) for t in shapes))
        pool.setdefault(s, []).append(node)
        return node

    node = build(tuple(shape), max_depth)
    assert node.shape == tuple(shape), (node, node.shape, shape)
    return node
