"""Index notation in LaTeX: what symgrad/tensor_print.py prints, read back.

- `\\left[ e \\right]_{ijk}` is the array of the entries e at free indices i, j, k (one per
  axis, in order); an index 1 is a unit axis; an index of the subscript that e does not use is
  an axis e is broadcast along (its size comes from elsewhere in the formula, or from the
  result's shape given to parse).
- `X_{ijk}`, `X_{i j k}`, `(W^\\top)_{jk}`, `\\left(\\frac{\\partial L}{\\partial f}\\right)_{lij}`
  are entries of a declared array or of a matrix expression; fewer indices than axes index the
  leading axes, so `X_{i}` of an (B, T, d) X is the i-th slice, a T×d matrix (per-slice matrix
  notation: `\\sum_{i} X_{i}^\\top G_{i}`).
- `\\sum_{l}`, `\\sum_{k l}` sum over indices (the size is that of the axes the index names;
  `\\sum_{i=1}^{B}` states it); `\\delta_{jk}` is the Kronecker delta.

A value is an array whose leading axes are named by index letters (T.idx) and whose trailing
axes (none for an entry, one or two for a slice) are matrix axes; operations align the named
axes by letter (NumPy broadcasting over the letters an operand does not use) and act on the
trailing ones as matrices. Every index's size is checked where it is used: one index with two
sizes, an unbound index, or a bracket whose subscript misses a free index is refused.
"""

from __future__ import annotations

import re

from ..errors import AmbiguousInputError, LatexSyntaxError, ShapeError
from ..node import Node, describe
from ..op import REGISTRY
from ..ops import api, core
from ..shapes import fmt_shape
from .declare import key_of
from .functions import axis_from_sub, function
from .index_formulas import formula_entry, read_formulas
from .tree import A, V

# An index: a letter, a letter numbered when the letters run out (a_{1}), or 1 (a unit axis)
_INDEX = re.compile(r"[A-Za-z](?:_\{?\d+\}?)?|1")


def read_indices(sub: str | None) -> list[str] | None:
    """`ijk`, `i j k`, `i, 1, k`, `i, a_{1}` -> ['i', 'j', 'k'] ...; None when sub is not a
    list of indices."""
    if not sub:
        return None
    s = sub.strip()
    if "," in s:
        parts = [p.strip() for p in s.split(",")]
    elif " " in s:
        parts = s.split()
    else:
        parts = [s] if _INDEX.fullmatch(s) else list(s)
    if not parts or not all(_INDEX.fullmatch(p) for p in parts):
        return None
    return [p.replace("{", "").replace("}", "") for p in parts]


def _what(x: Node) -> str:
    """A declared array by its name (its entries printed would be [X_{ijk}]_{ijk})."""
    return f"{x.params[0]} (shape {fmt_shape(x.shape)})" if x.op is core.VAR else describe(x)


class T:
    """An array whose leading axes are named by index letters; the rest are matrix axes."""

    __slots__ = ("node", "idx", "row")

    def __init__(self, node: Node, idx=(), row: bool = False) -> None:
        self.node, self.idx, self.row = node, tuple(idx), row

    @property
    def trailing(self) -> int:
        return self.node.ndim - len(self.idx)


def _children(a: A):
    for k in a.kids:
        if isinstance(k, A):
            yield k
        elif isinstance(k, list):
            for x in k:
                if isinstance(x, A):
                    yield x
                elif isinstance(x, tuple):
                    yield from (y for y in x if isinstance(y, A))


def entry_ref(b, a: A):
    """A name written as an entry: ("entry", array, indices) or ("delta", indices); else None
    (a declared name, even with a subscript, stays that name)."""
    base, sub, kind = a.kids
    letters = read_indices(sub)
    known = b.d.vars.keys() | b.d.defs.keys()
    if letters is None:
        specs = read_formulas(sub)
        x = b.d.defs.get(key_of(base), b.d.vars.get(key_of(base)))
        return ("formula", x, specs) if specs and x is not None else None
    if not any(c != "1" for c in letters):
        return None
    if key_of(base + "_" + sub.replace(" ", "")) in known:
        return None
    if base == "delta" and kind == "GREEK" and key_of("delta") not in known:
        return ("delta", letters)
    x = b.d.defs.get(key_of(base), b.d.vars.get(key_of(base)))
    if x is not None and 1 <= len(letters) <= x.ndim:
        return ("entry", x, letters)
    return None


def has_indices(b, a: A) -> bool:
    """Does the subtree at a use index notation (memoized on the builder)?"""
    memo = b.__dict__.setdefault("_index_memo", {})
    hit = memo.get(id(a))
    if hit is None:
        if a.kind in ("paren_sub", "isum"):
            hit = True
        elif a.kind == "name":
            hit = entry_ref(b, a) is not None
        elif a.kind == "upstream":
            hit = False
        else:
            hit = any(has_indices(b, k) for k in _children(a))
        memo[id(a)] = (hit, a)  # keep a alive: ids of live nodes are unique
        return hit
    return hit[0]


class IndexReader:
    """Reads one outermost index-notation construct (a bracket, an index sum) of a Builder."""

    def __init__(self, b, root: A) -> None:
        self.b = b
        self.sizes: dict[str, tuple[object, int]] = {}  # index -> (size, where first sized)
        self.inner: dict[int, Node] = {}  # matrix expressions indexed, built once
        core_root = b.root_ast if b.root_ast is b.result_ast else None
        while core_root is not None and core_root.kind in ("group", "paren"):
            core_root = core_root.kids[0]
        self.root = core_root
        self.prepass(root)

    # ---- index sizes --------------------------------------------------------------------
    def fail(self, cls, msg: str, pos: int):
        return self.b.fail(cls, msg, pos)

    def size_of(self, letter: str, size, pos: int) -> None:
        """Records the size of an index; one index with two sizes is refused."""
        old = self.sizes.get(letter)
        if old is None:
            self.sizes[letter] = (size, pos)
        elif old[0] != size:
            raise self.fail(ShapeError, f"the index {letter} is used with two sizes, {old[0]} "
                            f"and {size}", pos)

    def name_axes(self, shape, letters, pos: int) -> None:
        for c, s in zip(letters, shape):
            if c != "1":
                self.size_of(c, s, pos)

    def prepass(self, root: A) -> None:
        """The sizes of every index used in root, before building (\\delta_{jk} takes its size
        from entries written after it)."""
        hint = self.b.shape_hint
        if root is self.root and root.kind == "paren_sub" and hint is not None:
            letters = read_indices(root.kids[1])  # [\delta_{ij}]_{ijk}: sized by the result
            if letters is not None and len(letters) == len(hint):
                self.name_axes(hint, letters, root.pos)
        stack = [root]
        while stack:
            a = stack.pop()
            if a.kind == "upstream":
                continue
            if a.kind == "name":
                ref = entry_ref(self.b, a)
                if ref is not None and ref[0] == "entry":
                    self.name_axes(ref[1].shape, ref[2], a.pos)
            elif a.kind == "paren_sub" and not has_indices(self.b, a.kids[0]):
                letters = read_indices(a.kids[1])
                if letters is not None:
                    node = self.b.materialize(self.b.value(a.kids[0]))
                    self.inner[id(a)] = node
                    self.name_axes(node.shape, letters, a.pos)
            elif a.kind == "isum":
                letters, top = self.sum_spec(a)
                if top is not None:
                    for c in letters:
                        self.size_of(c, top, a.pos)
            stack.extend(reversed(list(_children(a))))  # left to right: errors name the later

    def sum_spec(self, a: A) -> tuple[list[str], object]:
        spec = a.kids[0]
        head, _, top = spec.partition("^")
        head, eq, low = head.partition("=")
        letters = read_indices(head)
        if letters is None or "1" in letters or len(set(letters)) != len(letters):
            raise self.fail(LatexSyntaxError, rf"cannot read \sum_{{{spec}}}: write the summed "
                            r"indices, \sum_{i} or \sum_{k l}", a.pos)
        if eq and (low.strip() != "1" or len(letters) != 1 or not top):
            raise self.fail(LatexSyntaxError, rf"\sum_{{{spec}}}: an index runs from 1 to a "
                            r"size, \sum_{i=1}^{n}", a.pos)
        return letters, (self.b.size(top, a.pos) if top else None)

    # ---- values ---------------------------------------------------------------------------
    def value(self, a: A) -> T:
        if not has_indices(self.b, a):
            v = self.b.value(a)
            return T(self.b.materialize(v), (), row=v.row)
        handler = getattr(self, "i_" + a.kind, None)
        if handler is None:
            raise self.fail(LatexSyntaxError, f"this {a.kind} cannot hold index notation",
                            a.pos)
        self.b._last_pos = a.pos
        return handler(a)

    def i_group(self, a: A) -> T:
        return self.value(a.kids[0])

    i_paren = i_group

    def i_neg(self, a: A) -> T:
        t = self.value(a.kids[0])
        return T(api.neg(t.node), t.idx, t.row)

    def i_sum(self, a: A) -> T:
        first, rest = a.kids
        acc = self.value(first)
        for op, term in rest:
            fn = {"PLUS": api.add, "OPLUS": api.add, "MINUS": api.sub, "OMINUS": api.sub}[op.type]
            acc = self.entrywise(fn, acc, self.value(term), op.start_pos)
        return acc

    def i_had(self, a: A) -> T:
        first, rest = a.kids
        acc = self.value(first)
        for op, f in rest:
            if op.type == "OTIMES":
                raise self.fail(LatexSyntaxError, r"\otimes in index notation: write the "
                                "product of the entries", op.start_pos)
            fn = api.mul if op.type == "ODOT" else api.div
            acc = self.entrywise(fn, acc, self.value(f), op.start_pos)
        return acc

    def i_prod(self, a: A) -> T:
        factors, _ = a.kids
        acc = self.value(factors[0])
        for f in factors[1:]:
            acc = self.times(acc, self.value(f), f.pos)
        return acc

    def i_frac(self, a: A) -> T:
        return self.entrywise(api.div, self.value(a.kids[0]), self.value(a.kids[1]), a.pos)

    def i_sqrt(self, a: A) -> T:
        t = self.value(a.kids[0])
        return T(api.sqrt(t.node), t.idx, t.row)

    def i_bars(self, a: A) -> T:
        t = self.value(a.kids[0])
        return T(api.abs_(t.node), t.idx, t.row)

    def i_call(self, a: A) -> T:
        fname, sub, arg, _ = a.kids
        op = REGISTRY.get(fname)
        if op is not None and op.spelling is not None and op.spelling.subscript == "axis":
            t = self.value(arg)
            if t.trailing == 2 and sub is not None:  # softmax_{row} of a matrix slice
                axis = len(t.idx) + axis_from_sub(sub, op.spelling.latex)
                return T(op.spelling.build(t.node, axis), t.idx)
        if op is None or op.sympy is None or op.spelling is None or op.spelling.subscript:
            raise self.fail(LatexSyntaxError, f"{fname} of index notation: only functions of "
                            r"numbers (\exp, \tanh, \log, ...) apply to entries; write sums "
                            r"with \sum", a.pos)
        t = self.value(arg)
        return T(function(fname)(t.node, sub), t.idx, t.row)

    def i_post(self, a: A) -> T:
        base, posts = a.kids
        t = self.value(base)
        for p in posts:
            if p.kind == "T":
                if t.trailing == 2:
                    t = T(api.swapaxes(t.node, -1, -2), t.idx)
                elif t.trailing == 1:
                    t = T(t.node, t.idx, not t.row)
                else:
                    raise self.fail(LatexSyntaxError, "a transpose of an entry (a number): "
                                    "transpose the array, (X^\\top)_{ij}", p.pos)
            elif p.kind in ("pow", "hpow", "inv"):
                if t.trailing and p.kind != "hpow":  # a slice's ^{\circ 2} is entrywise
                    raise self.fail(LatexSyntaxError, "a power of a slice: index it to its "
                                    "entries", p.pos)
                e = T(core.number(-1)) if p.kind == "inv" else self.value(p.kids[0])
                t = self.entrywise(api.pow, t, e, p.pos)
            else:
                raise self.fail(LatexSyntaxError, "this power cannot apply to an entry", p.pos)
        return t

    def i_name(self, a: A) -> T:
        ref = entry_ref(self.b, a)
        if ref[0] == "delta":
            return self.delta(ref[1], a.pos)
        if ref[0] == "formula":
            return formula_entry(self, ref[1], ref[2], a.pos)
        return self.indexed(ref[1], ref[2], a.pos)

    def i_paren_sub(self, a: A) -> T:
        inner, sub, spos = a.kids
        letters = read_indices(sub)
        specs = read_formulas(sub) if letters is None else None
        if specs and not has_indices(self.b, inner):
            node = self.inner.get(id(a))
            return formula_entry(self, node if node is not None else self.b.materialize(
                self.b.value(inner)), specs, spos)
        if letters is None:
            raise self.fail(LatexSyntaxError, f"cannot read the indices {{{sub}}}: one letter "
                            "or the unit index 1 each (index formulas of reshapes are not read)",
                            spos)
        if has_indices(self.b, inner):
            return self.bracket(self.value(inner), letters, a)
        node = self.inner.get(id(a))
        if node is None:
            node = self.b.materialize(self.b.value(inner))
        if node.ndim == 0:  # a number's array: [1]_{ijk}
            return self.bracket(T(node), letters, a)
        return self.indexed(node, letters, spos)

    def i_isum(self, a: A) -> T:
        letters, top = self.sum_spec(a)
        t = self.value(a.kids[1])
        node = t.node
        for c in letters:
            if c not in t.idx:
                if top is None:
                    raise self.fail(LatexSyntaxError, rf"the index {c} of \sum_{{{a.kids[0]}}} "
                                    "does not occur in the sum's term", a.pos)
                node = api.mul(core.number(top), node)  # a term without the index
        axes = tuple(t.idx.index(c) for c in letters if c in t.idx)
        out = api.sum_(node, axes) if axes else node
        return T(out, tuple(c for c in t.idx if c not in letters), t.row)

    # ---- entries ----------------------------------------------------------------------------
    def indexed(self, x: Node, letters: list[str], pos: int) -> T:
        """x at indices `letters` (its leading axes; a repeated index is the diagonal)."""
        if len(letters) > x.ndim:
            raise self.fail(ShapeError, f"{len(letters)} indices for {_what(x)}", pos)
        for k, c in enumerate(letters):
            if c == "1" and x.shape[k] != 1:
                raise self.fail(ShapeError, f"the index 1 names axis {k + 1} of {_what(x)}, "
                                f"which has {x.shape[k]} entries, not 1", pos)
        self.name_axes(x.shape, letters, pos)
        keep = [k for k, c in enumerate(letters) if c != "1"]
        if len(keep) < len(letters):
            x = api.reshape(x, tuple(x.shape[k] for k in keep) + x.shape[len(letters):])
        idx = [letters[k] for k in keep]
        if len(set(idx)) < len(idx):  # X_{ii}: the diagonal, by einsum
            uniq = list(dict.fromkeys(idx))
            char = {c: chr(ord("a") + k) for k, c in enumerate(uniq)}
            rest = "".join(chr(ord("A") + k) for k in range(x.ndim - len(idx)))
            spec = "".join(char[c] for c in idx) + rest + "->" + \
                "".join(char[c] for c in uniq) + rest
            x = api.einsum(spec, x)
            idx = uniq
        return T(x, idx)

    def delta(self, letters: list[str], pos: int) -> T:
        if len(letters) != 2 or "1" in letters:
            raise self.fail(LatexSyntaxError, r"the Kronecker delta takes two indices: "
                            r"\delta_{jk}", pos)
        j, k = letters
        if j == k:
            return T(core.number(1))
        sj, sk = self.sizes.get(j), self.sizes.get(k)
        if sj is None and sk is None:
            raise self.fail(AmbiguousInputError, rf"the size of the indices of \delta_{{{j}{k}}} "
                            "is not determined by the formula", pos)
        n = (sj or sk)[0]
        self.size_of(j, n, pos)
        self.size_of(k, n, pos)
        return T(core.eye(n), (j, k))

    def bracket(self, t: T, letters: list[str], a: A) -> T:
        """[e]_{ijk}: the array of the entries e (a number each) at the indices."""
        spos = a.kids[2]
        if t.trailing:
            raise self.fail(LatexSyntaxError, f"the entry of [...]_{{{a.kids[1]}}} is "
                            f"{describe(t.node)} at each index, not a number", a.pos)
        named = [c for c in letters if c != "1"]
        if len(set(named)) < len(named):
            raise self.fail(LatexSyntaxError, f"an index repeats in the subscript "
                            f"{{{a.kids[1]}}} of an array", spos)
        loose = [c for c in t.idx if c not in named]
        if loose:
            raise self.fail(LatexSyntaxError, f"the index {loose[0]} is free in the entry but "
                            f"not in the subscript {{{a.kids[1]}}} of its array: sum over it "
                            rf"(\sum_{{{loose[0]}}}) or list it", spos)
        hint = self.b.shape_hint if a is self.root else None
        if hint is not None and len(hint) != len(letters):
            raise self.fail(ShapeError, f"the array [...]_{{{a.kids[1]}}} has {len(letters)} "
                            f"axes, the result {fmt_shape(hint)}", a.pos)
        shape = []
        for k, c in enumerate(letters):
            if c == "1":
                shape.append(1)
            elif c in t.idx:
                shape.append(t.node.shape[t.idx.index(c)])
            elif c in self.sizes:
                shape.append(self.sizes[c][0])
            elif hint is not None:
                shape.append(hint[k])
            else:
                raise self.fail(AmbiguousInputError, f"the size of the index {c} is not "
                                f"determined: the entry does not use it; pass the result's "
                                "shape (parse(..., shape=...))", spos)
        order = [c for c in named if c in t.idx]
        x = api.transpose(t.node, tuple(t.idx.index(c) for c in order)) if order else t.node
        x = api.reshape(x, tuple(s if c in t.idx else 1 for c, s in zip(letters, shape)))
        if tuple(x.shape) != tuple(shape):
            x = api.broadcast_to(x, tuple(shape))
        return T(x)

    # ---- operations -------------------------------------------------------------------------
    def aligned(self, ts: list[T], pos: int) -> tuple[list[Node], tuple[str, ...]]:
        """The operands with their named axes in one order (a unit axis where one does not
        use an index) and as many trailing axes, ready for NumPy broadcasting."""
        letters: list[str] = []
        for t in ts:
            for k, c in enumerate(t.idx):
                if c not in letters:
                    letters.append(c)
                self.size_of(c, t.node.shape[k], pos)
        rank = max(t.trailing for t in ts)
        out = []
        for t in ts:
            order = [c for c in letters if c in t.idx]
            perm = tuple(t.idx.index(c) for c in order) + tuple(range(len(t.idx), t.node.ndim))
            x = api.transpose(t.node, perm)
            tail = x.shape[len(order):]
            shape = tuple(x.shape[order.index(c)] if c in t.idx else 1 for c in letters)
            shape += (1,) * (rank - len(tail)) + tuple(tail)
            out.append(api.reshape(x, shape) if shape != tuple(x.shape) else x)
        return out, tuple(letters)

    def entrywise(self, fn, x: T, y: T, pos: int) -> T:
        (a, b), idx = self.aligned([x, y], pos)
        try:
            return T(fn(a, b), idx, x.row and y.row)
        except ShapeError as exc:
            raise self.fail(ShapeError, str(exc), pos) from None

    def times(self, x: T, y: T, pos: int) -> T:
        """Juxtaposition: the product of entries, or of slices as matrices."""
        if not x.trailing or not y.trailing:
            return self.entrywise(api.mul, x, y, pos)
        if x.trailing == 1 and y.trailing == 1 and not (x.row and not y.row):
            if not x.row and y.row:  # x y^T: the outer product of slices
                x = T(api.expand_dims(x.node, -1), x.idx)
                y = T(api.expand_dims(y.node, -2), y.idx)
                (a, b), idx = self.aligned([x, y], pos)
                return T(api.matmul(a, b), idx)
            raise self.fail(ShapeError, "a product of two column slices", pos)
        squeeze = []
        if x.trailing == 1:  # a row times a matrix; a column times a matrix of one row
            squeeze = [-2] if x.row else []
            x = T(api.expand_dims(x.node, -2 if x.row else -1), x.idx)
        if y.trailing == 1:  # a matrix times a column; a matrix of one column times a row
            squeeze += [] if y.row else [-1]
            y = T(api.expand_dims(y.node, -2 if y.row else -1), y.idx)
        (a, b), idx = self.aligned([x, y], pos)
        try:
            out = api.matmul(a, b)
        except ShapeError as exc:
            raise self.fail(ShapeError, str(exc), pos) from None
        for ax in sorted(squeeze):
            out = api.reshape(out, out.shape[:out.ndim + ax] + out.shape[out.ndim + ax + 1:])
        row = squeeze == [-2]
        return T(out, idx, row)


def read(b, a: A) -> V:
    """A bracket or an index sum read from the builder b: its value, without free indices."""
    t = IndexReader(b, a).value(a)
    if t.idx:
        raise b.fail(LatexSyntaxError, f"the index {t.idx[0]} is not bound: list it in the "
                     rf"array's subscript (\left[ ... \right]_{{{t.idx[0]}}}) or sum over it",
                     a.pos)
    return V(t.node, a.pos, row=t.row)


def entry_outside(b, a: A) -> str | None:
    """The message for an entry written outside index notation (X_{ij} alone)."""
    ref = entry_ref(b, a)
    sub = a.kids[1]
    if ref is None:
        x = b.d.vars.get(key_of(a.kids[0]), b.d.defs.get(key_of(a.kids[0])))
        if sub and x is not None and x.ndim >= 2 and re.search(r"[,+()]|\\", sub):
            return (f"cannot read the indices {{{sub}}} of {a.kids[0]}: one letter or the unit "
                    "index 1 each (index formulas, as of a reshape, are not read)")
        return None
    return (rf"{a.kids[0]}_{{{sub}}} is an entry (index notation): write the array of entries, "
            rf"\left[ {a.kids[0]}_{{{sub}}} \right]_{{{sub}}}, or sum over its indices")

