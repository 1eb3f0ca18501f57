"""Which subexpressions of printed results get a name of their own, and which name.

A subexpression is named when writing it once under a name is shorter than writing it at each
place it occurs in the printed text (its occurrences are counted in the printed tree, outer
parts first: a part named as a whole is not counted again inside), and a row too long to read
gets its largest part named. Names follow the field's
habits: Z for a pre-activation (an affine map X W + 1 bᵀ), H for an activation (an elementwise
nonlinearity), P for a softmax, R for a residual (a difference with a data variable), S for an
inverse or another symmetric matrix (not an elementwise function of one), M for anything else
(s for a scalar). A letter used once stands alone (H), several get subscripts (Z_1, Z_2), and
no name clashes with a variable, a size or a name the user gave (`sg.name`, printed as is).
"""

from __future__ import annotations

import itertools
from collections import Counter

import sympy

from .errors import InvalidNameError, UnsupportedError
from .names import check_name
from .node import Node, substitute, topo
from .op import ATOM, PROD
from .ops import core, shape
from .ops.shape import is_symmetric_expr
from .printing import Printer, Style
from .slices import in_sight, subscript_parts, to_slices
from .tensor_print import entries, needs_index_notation

__all__ = ["name_shared"]

# Characters a definition row costs beyond its body and its name (" &= " and the row break),
# and the length of a typical name where it is used (H, Z_{1}): a part is named only when
# that pays for itself by some characters more than a reader's lookup. A sum, printed as an
# operand, also loses its parentheses.
_ROW_COST = 8
_NAME_COST = 3
_MIN_SAVING = 6
# A row longer than _LONG characters is split: its largest part of at least _MIN_PART and at
# most _PART of the row gets a name (a placeholder stands in while the rows are measured).
_LONG, _MIN_PART, _PART, _MAX_SPLITS = 160, 30, 0.6, 40
_PLACEHOLDER = "M_0"
# Elementwise functions whose result is an activation (H); exp, log, powers are not.
_NOT_ACTIVATIONS = frozenset({"abs", "exp", "log", "sqrt", "sign", "sin", "cos"})
# Never a generated name: the identity, and the loss of ∂L/∂W labels.
_RESERVED = frozenset({"I", "L"})


def _core_of(n: Node) -> Node:
    while n.op is core.NAME or n.op is shape.T:
        n = n.args[0]
    return n


def _leafish(n: Node) -> bool:
    """A variable, a constant, or one transposed: naming it saves nothing."""
    return not _core_of(n).args


def letter(n: Node) -> str:
    """The field's letter for a named part (see the module docstring)."""
    op = n.op
    if op.name == "softmax":
        return "P"
    if op.sympy is not None and op.name not in _NOT_ACTIVATIONS and n.ndim:
        return "H"
    if op.name == "inv" or (op.sympy is None and n.ndim == 2 and n.shape[0] == n.shape[1]
                            and is_symmetric_expr(n)):
        return "S"
    if op.name == "sub" and any(core.is_user_variable(_core_of(a)) for a in n.args):
        return "R"
    if op.name == "add" and any(_core_of(a).op.name == "matmul" for a in n.args):
        return "Z"
    return "M" if n.ndim else "s"


def _taken(order: list[Node], loss: str) -> set[str]:
    """Canonical names in sight: variables, the user's names, sizes, and the reserved ones."""
    taken = set(_RESERVED) | {check_name(loss)} if loss.isalpha() else set(_RESERVED)
    for v in order:
        if core.is_user_variable(v) or v.op is core.NAME:
            try:
                taken.add(check_name(v.params[0]))
            except InvalidNameError:  # a derivation's own symbol (d(x_{0})): no clash
                pass
        for s in v.shape:
            if isinstance(s, sympy.Expr):
                taken |= {str(sym) for sym in s.free_symbols}
    return taken


def name_shared(exprs: list[Node], style: Style) -> tuple[list[Node], list[Node]]:
    """(the NAME nodes of the named parts, inner ones first; the expressions written with them)."""
    order = topo(exprs, leaf=lambda m: m.op is core.NAME)
    if any(needs_index_notation(m) for m in order):  # beyond matrices
        return _name_slices(exprs, style)
    named = _repeated(order, exprs, style)
    before = set(named)
    _split_long(order, exprs, named, style)
    _prune(order, exprs, named, style, keep=named - before)
    return _labelled(order, exprs, named, style)


def _name_slices(exprs: list[Node], style: Style) -> tuple[list[Node], list[Node]]:
    """Names for expressions beyond matrices: their per-slice matrix form (symgrad/slices.py)
    named as matrices are, a part that depends on slice indices subscripted by them (G_{i});
    none in index notation (no per-slice form), where only the user's names show."""
    sliced = to_slices(exprs)
    if sliced is None:
        return [], list(exprs)
    defs, rows = name_shared(sliced, style)
    if not defs:  # the expressions print in their per-slice form (when short enough) anyway
        return [], list(exprs)
    taken = in_sight(sliced) | _RESERVED | ({style.loss} if style.loss.isalpha() else set())
    defs, rows = subscript_parts(defs, rows, taken)
    P = Printer(style)
    named = sum(len(P(d)) + len(P(d.args[0])) + _ROW_COST for d in defs)
    try:
        index = sum(len(entries(e, Printer(style))) for e in exprs)
    except UnsupportedError:  # no index notation for some op
        return defs, rows
    if named + sum(len(P(r)) for r in rows) > index:  # index notation is shorter
        return [], list(exprs)
    return defs, rows


def _labelled(order: list[Node], exprs: list[Node], named: set[Node], style: Style):
    """The named parts under their names (see the module docstring), and the expressions."""
    if not named:
        return [], list(exprs)
    chosen = [n for n in order if n in named]  # inner first
    by_letter = Counter(letter(n) for n in chosen)
    taken = _taken(order, style.loss)
    counters = {ch: itertools.count(1) for ch in by_letter}
    mapping: dict[Node, Node] = {}
    for n in chosen:
        ch = letter(n)
        label = ch if by_letter[ch] == 1 and ch not in taken else None
        while label is None or label in taken:
            label = check_name(f"{ch}_{next(counters[ch])}")
        taken.add(label)
        mapping[n] = core.name(label, substitute(n, mapping) if mapping else n)
    return list(mapping.values()), substitute(list(exprs), mapping)


def _length(order: list[Node], exprs: list[Node], named: set[Node], style: Style) -> int:
    """Characters of the display with these parts named: definition rows and results."""
    defs, rows = _labelled(order, exprs, named, style)
    P = Printer(style)
    heads = sum(len(P(d)) + len(P(d.args[0])) + _ROW_COST for d in defs)
    return heads + sum(len(P(e)) for e in rows)


def _repeated(order: list[Node], exprs: list[Node], style: Style) -> set[Node]:
    """The parts printed often enough that a name pays, outer ones first."""
    P = Printer(style)
    for e in exprs:
        P(e)
    named: set[Node] = set()
    occ: Counter = Counter(exprs)
    for n in reversed(order):  # parents before children
        c = 1 if n in named else occ[n]
        if n.op is core.NAME:
            continue
        if c > 1 and not _leafish(n) and _pays(c, *P.memo.get(n, ("", ATOM))):
            named.add(n)
            c = 1
        for a in n.args:
            occ[a] += c
    return named


def _pays(c: int, text: str, prec: int) -> bool:
    """Writing a part c times costs more than a name c times and a definition row."""
    used = len(text) + 2 * (prec < PROD)  # as printed where it is used
    return c * used >= (c + 1) * _NAME_COST + len(text) + _ROW_COST + _MIN_SAVING


def _prune(order: list[Node], exprs: list[Node], named: set[Node], style: Style,
           keep: frozenset | set = frozenset()) -> None:
    """Drop each name without which the display is no longer (an outer part chosen for its
    full length may print short once the parts inside it are named), outer ones first."""
    where = {n: i for i, n in enumerate(order)}
    best = _length(order, exprs, named, style)
    for n in sorted(named - keep, key=where.__getitem__, reverse=True):
        trial = _length(order, exprs, named - {n}, style)
        if trial <= best:
            named.discard(n)
            best = trial


def _split_long(order: list[Node], exprs: list[Node], named: set[Node], style: Style) -> None:
    """Name the largest part of each row longer than _LONG characters (a part of at most
    _PART of the row), until every row fits or has no such part; adds to `named`."""
    stuck: set[Node] = set()
    for _ in range(_MAX_SPLITS):
        rows, back = _rows_with_names(order, exprs, named)
        P = Printer(style)
        long = [(len(P(r)), orig, r) for orig, r in rows if orig not in stuck]
        long = [t for t in long if t[0] > _LONG]
        if not long:
            return
        size, orig, row = max(long, key=lambda t: t[0])
        parts = [m for m in topo(row, leaf=lambda m: m.op is core.NAME)
                 if m is not row and m.op is not core.NAME and not _leafish(m)
                 and _MIN_PART <= len(P.memo[m][0]) <= _PART * size]
        if not parts:
            stuck.add(orig)
            continue
        named.add(back[max(parts, key=lambda m: len(P.memo[m][0]))])


def _rows_with_names(order: list[Node], exprs: list[Node], named: set[Node]):
    """[(the original of a printed row, the row with its named parts as names)] and a map from
    the nodes of the rows back to the originals."""
    memo: dict[Node, Node] = {}
    back: dict[Node, Node] = {}
    rows = []
    for n in order:  # children first
        args = n.args if n.op is core.NAME else tuple(memo[a] for a in n.args)
        new = n if args == n.args else Node(n.op, args, n.params)
        back.setdefault(new, n)
        if n in named:
            rows.append((n, new))
            new = core.name(_PLACEHOLDER, new)
        memo[n] = new
    return rows + [(e, memo[e]) for e in exprs if e not in named], back
