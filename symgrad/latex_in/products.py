"""Juxtaposition: a product of factors is a matrix product between non-scalars and a scalar
product otherwise, decided from the declared shapes; ones vectors and identities without a
size take the form the product needs; a notation with two readings is refused."""

from __future__ import annotations

from dataclasses import replace

from ..errors import AmbiguousInputError, ShapeError
from ..node import Node, describe
from ..ops import api, core, linalg
from .declare import key_of
from .tree import A, V


class Products:
    """The product methods of Builder (symgrad/latex_in/build.py)."""

    # ---- products ------------------------------------------------------------------------
    def v_prod(self, a: A) -> V:
        factors, ops = a.kids
        factors, ops = self.merge_runs(factors, ops)
        for f, g in zip(factors, factors[1:]):
            if f.kind == "call" and not f.kids[3]:  # its argument stopped at a function
                raise self.fail(AmbiguousInputError, self.two_calls(f, g), g.pos)
        vals: list[tuple[V, object]] = []
        for f, op in zip(factors, [None] + list(ops)):
            vals.append((self.value(f), op))
        self.lone_one(vals)
        # An outer product written inside a chain is a unit: P x y^T Q is P (x y^T) Q, as the
        # printer writes the outer product (a b^T) between matrices.
        i = 0
        while i + 1 < len(vals):
            (u, op), (w, op2) = vals[i], vals[i + 1]
            if (u.node is not None and w.node is not None and u.node.ndim == 1 and not u.row
                    and not u.ones and w.node.ndim == 1 and w.row and not w.ones and i > 0):
                vals[i: i + 2] = [(self.juxt(u, w, op2), op)]
            i += 1
        # A scalar factor scales everything after it: 2 A B is 2 (A B), A 2 B is A (2 B).
        lefts: list[tuple[V, object]] = []
        acc, _ = vals[0]
        for v, op in vals[1:]:
            a_s = acc.node is not None and acc.node.ndim == 0
            v_s = v.node is not None and v.node.ndim == 0
            folds = a_s and v_s and core.const_value(acc.node) is not None \
                and core.const_value(v.node) is not None
            if (a_s or v_s) and not folds:
                lefts.append((acc, op))
                acc = v
            else:
                acc = self.juxt(acc, v, op)
        for left, op in reversed(lefts):
            acc = self.juxt(left, acc, op)
        return acc

    def merge_runs(self, factors: list, ops: list) -> tuple[list, list]:
        """Adjacent letters spelling a declared multi-letter name are that name (`loss`), and
        a letter with digits right after it is the declared name with that subscript (`W1` is
        W_1, as names.py reads it); ops[i] stays the operator before factors[i + 1]."""
        if len(factors) < 2 or not (self.d.vars or self.d.defs):
            return factors, ops
        known = set(self.d.vars) | set(self.d.defs)
        longs = {k for k in known if len(k) > 1 and k.isalnum()}
        longest = max((len(k) for k in longs), default=0)
        out, out_ops = [], []
        i = 0
        while i < len(factors):
            j, f = self.letter_run(factors, ops, i, longest, longs) or (i + 1, factors[i])
            named = j < len(factors) and ops[j - 1] is None and self.indexed_name(
                f, factors[j], known)
            if named:
                f, j = named, j + 1
            if out:
                out_ops.append(ops[i - 1])
            out.append(f)
            i = j
        return out, out_ops

    @staticmethod
    def letter_run(factors, ops, i, longest, longs):
        for j in range(min(len(factors), i + longest), i + 1, -1):
            run = factors[i:j]
            if all(f.kind == "name" and f.kids[2] == "LETTER" and not f.kids[1]
                   for f in run) and all(op is None for op in ops[i:j - 1]) and all(
                    run[t + 1].pos == run[t].pos + 1 for t in range(len(run) - 1)):
                word = "".join(f.kids[0] for f in run)
                if key_of(word) in longs:
                    return j, A("name", run[0].pos, word, None, "WORD")
        return None

    def indexed_name(self, f: A, g: A, known: set) -> A | None:
        """`W1` (a letter, digits written against it, their postfixes: `W1^\\top`) is the
        declared W_1; None when it is not a declared name (then it is the product)."""
        num = g.kids[0] if g.kind == "post" else g
        if not (f.kind == "name" and f.kids[2] == "LETTER" and f.kids[1] is None
                and num.kind == "num" and num.kids[0].isdigit() and num.pos == f.pos + 1):
            return None
        base, digits = f.kids[0], num.kids[0]
        if key_of(base + digits) not in known:
            return None
        if key_of(base) in known:
            raise self.fail(AmbiguousInputError, f"{base}{digits} has two readings: the "
                            f"variable {base}_{{{digits}}} or {base} times {digits}; write "
                            f"{base}_{{{digits}}} for the variable", f.pos)
        name = A("name", f.pos, base, digits, "LETTER")
        return A("post", f.pos, name, g.kids[1]) if g.kind == "post" else name

    def juxt(self, L: V, R: V, op=None) -> V:
        pos = R.pos
        self._last_pos = pos
        if L.pending and R.pending:
            raise self.fail(AmbiguousInputError, r"cannot tell the sizes of \mathbf{1} or I "
                            "here; write them with a size: \\mathbf{1}_{n}, I_{n}", pos)
        if L.pending:
            L = self.resolve_left(L, R, pos)
        if R.pending:
            R = self.resolve_right(L, R, pos)
        if L.flex and not L.row and R.node.ndim > 0 and not (
                R.row or (R.node.ndim == 2 and R.node.shape[0] == 1)):
            # a row times R, as the column it is would not multiply R (before a row it is
            # the column of an outer product: logsumexp_col(B) yᵀ)
            L = V(api.reshape(L.node, (1, L.node.shape[0])), L.pos)
        if R.flex and not R.row and L.node.ndim > 0 and (
                (L.node.ndim == 2 and L.node.shape[1] == 1) or (L.node.ndim == 1 and not L.row)):
            R = replace(R, row=True, lift=True, flex=False)
        a, b = L.node, R.node
        if a.ndim == 0 or b.ndim == 0:
            ca, cb = core.const_value(a), core.const_value(b)
            if self.foldable(ca, cb):
                return V(self.number(ca * cb, pos), L.pos)
            if a.ndim == 0:
                return V(api.mul(a, b), L.pos, row=R.row, lift=R.lift)
            return V(api.mul(a, b), L.pos, row=L.row, lift=L.lift)
        if op is not None and op.type == "STAR":
            raise self.fail(AmbiguousInputError, f"'*' between {describe(a)} and "
                            f"{describe(b)}: write juxtaposition or \\cdot for the matrix "
                            r"product, \odot for the elementwise product", op.start_pos)
        # \mathbf{1}_{1} is the number 1 (the printer writes it for sums over a unit axis)
        if R.ones and b.shape == (1,) and (a.shape[-1] == 1 or R.row or a.ndim == 1):
            return replace(L, ones=False)
        if L.ones and a.shape == (1,) and (b.shape[0] == 1 or L.row or b.ndim == 1):
            return replace(R, ones=False)
        # ones vectors take the form the product needs
        if L.ones and not L.row and (R.row or (b.ndim == 2 and b.shape[0] == 1)):
            a = core.ones(a.shape[0], 1)
        elif L.ones and L.row and b.ndim == 2:
            out = linalg.matmul(api.transpose(core.ones(a.shape[0], 1)), b)
            return V(out, L.pos)
        if R.ones and R.row and a.ndim == 2:
            if a.op is core.ONES and a.shape[1] == 1:
                return V(core.ones(a.shape[0], b.shape[0]), L.pos)
            return V(linalg.matmul(a, api.transpose(core.ones(b.shape[0], 1))), L.pos)
        # a 1×1 matrix is a number on paper: beside a matrix it cannot multiply, it scales it
        if a.shape == (1, 1) and b.ndim == 2 and b.shape[0] != 1 or \
                b.shape == (1, 1) and a.ndim == 2 and a.shape[1] != 1:
            return V(api.mul(a, b), L.pos)
        if a.shape == (1, 1) and b.ndim == 1 and b.shape[0] != 1 and not R.row:  # s x
            return V(api.mul(api.reshape(a, ()), b), L.pos)
        if b.shape == (1, 1) and a.ndim == 1 and a.shape[0] != 1 and not L.row:  # x s
            return V(api.mul(a, api.reshape(b, ())), L.pos)
        try:
            return self.matmul(a, b, L, R, pos)
        except (ShapeError, AmbiguousInputError):
            # a (1,) vector is a number on paper: where it cannot multiply, it scales
            if (1,) not in (a.shape, b.shape):
                raise
        # the other factor keeps its orientation: (yᵀ rᵀ) vᵀ is the row vᵀ scaled
        keep = R if a.shape == (1,) else L
        return V(api.mul(a, b), L.pos, row=keep.row, lift=keep.lift)

    def matmul(self, a: Node, b: Node, L: V, R: V, pos: int) -> V:
        if a.ndim == 1:
            if L.row:
                if b.ndim == 1 and R.row:
                    raise self.fail(ShapeError, f"{describe(a)}ᵀ {describe(b)}ᵀ: two rows "
                                    "cannot be multiplied", pos)
                out = linalg.matmul(a, b)
                return V(out, L.pos, row=out.ndim == 1)
            if b.ndim == 1:
                if R.row:
                    return V(linalg.outer(a, b), L.pos)
                if R.ones and b.shape[0] == 1:  # x 1_1: the column x times the 1x1 ones
                    return V(linalg.matmul(api.reshape(a, (a.shape[0], 1)), b), L.pos)
                raise self.fail(AmbiguousInputError, f"{describe(a)} {describe(b)}: two "
                                "column vectors side by side; write x^\\top y (a scalar) or "
                                "x y^\\top (a matrix)", pos)
            if b.shape[0] == 1:  # column times row
                return V(linalg.matmul(api.reshape(a, (a.shape[0], 1)), b), L.pos)
            raise self.fail(ShapeError, f"a column {describe(a)} cannot multiply "
                            f"{describe(b)} from the left; did you mean a transpose?", pos)
        if b.ndim == 1 and R.row:
            out = linalg.matmul(a, api.reshape(b, (1, b.shape[0])))
        else:
            out = linalg.matmul(a, b)
        if out.ndim == 1 and out.shape[0] == 1 and a.ndim == 2 and a.shape[0] == 1:
            out = api.reshape(out, ())  # a row times a column is a scalar
        return V(out, L.pos)

    def resolve_left(self, L: V, R: V, pos: int) -> V:
        b = self.materialize(R) if R.node is not None else None
        if b is None or b.ndim == 0:
            raise self.fail(AmbiguousInputError, self._size_hint(L), pos)
        if L.pending == "eye":
            return V(core.eye(b.shape[0]), L.pos)
        if L.pending == "ones" and L.row:
            return V(core.ones(b.shape[0]), L.pos, ones=True, row=True)
        raise self.fail(AmbiguousInputError, self._size_hint(L), pos)

    def resolve_right(self, L: V, R: V, pos: int) -> V:
        a = L.node
        if a.ndim == 0:
            raise self.fail(AmbiguousInputError, self._size_hint(R), pos)
        if R.pending == "eye":
            n = a.shape[-1]
            return V(core.eye(n), R.pos)
        if R.pending == "ones" and not R.row:
            return V(core.ones(a.shape[-1]), R.pos, ones=True)
        raise self.fail(AmbiguousInputError, self._size_hint(R), pos)

    @staticmethod
    def _size_hint(p: V) -> str:
        what = {"eye": "I", "ones": r"\mathbf{1}", "zeros": r"\mathbf{0}"}[p.pending]
        return f"cannot tell the size of {what} here; write it with a size, e.g. {what}_{{n}}"

    def materialize(self, v: V) -> Node:
        if v.pending:
            raise self.fail(AmbiguousInputError, self._size_hint(v), v.pos)
        if v.row and v.lift:
            return api.reshape(v.node, (1, v.node.shape[0]))
        return v.node

    def lone_one(self, vals: list) -> None:
        """The numeral 1 written after a non-scalar (`x^\\top 1`, `A1`) may be the number or
        the ones vector; written with \\cdot, or first (a coefficient), it is the number."""
        for i, (v, op) in enumerate(vals):
            big = next((w.node for w, _ in vals[:i] if w.node is not None and w.node.ndim),
                       None) if v.one and op is None else None
            if big is not None:
                raise self.fail(AmbiguousInputError, f"the numeral 1 after {describe(big)} has "
                                "two readings: the number 1 or the ones vector; write "
                                r"\mathbf{1}_{n} for the ones vector, or leave the factor 1 "
                                "out", v.pos)

    def two_calls(self, f: A, g: A) -> str:
        """A function without parentheses, then another function: which one binds what?"""
        head = self.text[f.pos: f.kids[2].pos].strip()
        arg = self.text[f.kids[2].pos: g.pos].strip()
        return (f"{head} without parentheses is followed by another function: its argument is "
                f"{arg} (then a product with that function) or the whole product after it; "
                "write the parentheses")
