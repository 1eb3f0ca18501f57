"""Index notation for expressions beyond matrices (three or more axes, einsum, axis regrouping).

An expression of order r >= 1 prints as the array of its entries, `[ e_{ijk} ]_{ijk}`: the entry
at free indices i, j, k (one per axis, in order) between brackets subscripted by those indices,
the notation A = [a_{ij}] of linear algebra texts extended to any order (Ricci calculus as in
Laue, Mitterreiter and Giesen's tensor calculus). Sums are explicit (`\\sum_{l}`, no Einstein
convention); an index of a unit axis is 1; a broadcast operand simply omits the indices of the
axes it is stretched along: (Z + A)_{ijk} = Z_{ijk} + A_{jk}. A scalar prints as its value.
Subexpressions without tensors print in matrix notation, indexed: (W^T)_{jk}.

Each op declares how it writes its entry (Op.entry: node, writer, indices -> text, precedence);
entrywise arithmetic and elementwise functions need nothing: their scalar form is printed over
their operands' entries.
"""

from __future__ import annotations

import copy

from .errors import UnsupportedError
from .node import Node, describe, topo
from .op import ADD, ATOM, PROD
from .ops import core
from .ops.shape import index_notation_only
from .slices import to_slices

POOL = "ijklmpqrstuvwabcdefgh"


def needs_index_notation(n: Node) -> bool:
    """Has n no matrix notation: more than two axes, or an op written only with indices?"""
    return n.ndim > 2 or n.op.print is index_notation_only


class IndexWriter:
    """Writes entries of expressions at given indices, through a matrix printer P."""

    def __init__(self, P, root: Node) -> None:
        self.P = P
        nodes = topo(root, leaf=lambda m: m.op is core.NAME)
        taken = set(P.taken)
        for m in nodes:
            for s in m.shape:
                taken |= {str(f) for f in getattr(s, "free_symbols", ())}
            if m.op is core.VAR:
                taken.add(m.params.name)
        self.pool = [c for c in POOL if c not in taken]
        self.used = 0
        self.sizes: dict[str, object] = {}  # a bound index -> the size it runs to
        self.written: set[str] = set()  # indices that occur in some subscript
        self.matrix_ok: dict[Node, bool] = {}
        for m in nodes:  # children first: is m printable in matrix notation?
            self.matrix_ok[m] = not needs_index_notation(m) and (
                m.op is core.NAME or all(self.matrix_ok[a] for a in m.args))

    # ---- the vocabulary of Op.entry -------------------------------------------------------
    def fresh(self, size=None) -> str:
        """A new index letter (bound by a sum over `size` values)."""
        k = self.used
        self.used += 1
        if k < len(self.pool):
            out = self.pool[k]
        else:
            out = f"{self.pool[k % len(self.pool)]}_{{{k // len(self.pool)}}}" \
                if self.P.is_latex else f"{self.pool[k % len(self.pool)]}{k // len(self.pool)}"
        self.sizes[out] = size
        return out

    def sub(self, idx) -> str:
        """The subscript of indices: _{ijk}, or _{i, j+1} when an index is not one letter."""
        if not idx:
            return ""
        self.written.update(idx)
        sep = "" if all(len(i) == 1 for i in idx) else ", "
        if self.P.is_latex:
            return "_{" + sep.join(idx) + "}"
        return "[" + ",".join(idx) + "]"

    def indexed(self, text: str, prec: int, idx) -> tuple[str, int]:
        """text (an array) at indices idx: W_{ij}, (W^T)_{ij}."""
        if not idx:
            return text, prec
        if prec < ATOM or any(c in text for c in "_^ "):
            text = self.P.paren(text)
        return text + self.sub(idx), ATOM

    def summed(self, letters, body: tuple[str, int]) -> tuple[str, int]:
        """\\sum_{l} body over the bound letters (none: the body itself)."""
        if not letters:
            return body
        text = body[0] if body[1] >= PROD else self.P.paren(body[0])
        # An index the term does not use (a broadcast summed) says how far it runs: the sum
        # is that many copies of the term, which the reader (and the parser) must be told.
        loose = [c for c in letters if c not in self.written and self.sizes.get(c) is not None]
        if self.P.is_latex:
            sums = [rf"\sum_{{{c}=1}}^{{{self.P.size(self.sizes[c])}}}" for c in loose]
            used = [c for c in letters if c not in loose]
            sums += [rf"\sum_{{{' '.join(used)}}}"] if used else []
            return " ".join(sums) + f" {text}", ADD
        return f"Σ_{''.join(letters)} {text}", ADD

    def factor(self, e: tuple[str, int]) -> str:  # entries are scalars: a b c needs no parens
        return e[0] if e[1] >= PROD else self.P.paren(e[0])

    def product(self, factors: list[tuple[str, int]]) -> tuple[str, int]:
        factors = [f for f in factors if f[0] != "1"]  # entries of ones vectors
        if not factors:
            return "1", ATOM
        text = self.factor(factors[0])
        for f in factors[1:]:
            text = self.P.juxt(text, self.factor(f))
        return text, PROD if len(factors) > 1 else factors[0][1]

    def align(self, x: Node, out_shape, idx) -> tuple[str, ...]:
        """The indices of an operand x broadcast to out_shape (NumPy: trailing axes align)."""
        lead = len(out_shape) - x.ndim
        return tuple("1" if s == 1 else idx[lead + i] for i, s in enumerate(x.shape))

    def unit(self, x: Node, idx) -> tuple[str, ...]:
        return tuple("1" if s == 1 else i for s, i in zip(x.shape, idx))

    # ---- driving --------------------------------------------------------------------------
    def entry(self, n: Node, idx) -> tuple[str, int]:
        idx = self.unit(n, tuple(idx))
        if not n.args and n.op.entry is not None:  # 1, 0, \delta_{ij}: not (1_n)_i
            return n.op.entry(n, self, idx)
        if self.matrix_ok.get(n, False) or n.op in (core.VAR, core.NAME):
            text, prec = self.P.fmt(n) if n.op is not core.NAME else (self.P.name(
                n.params[0]), ATOM)
            return self.indexed(text, prec, idx)
        if n.op.entry is not None:
            return n.op.entry(n, self, idx)
        if n.op.algebra is not None or n.op.sympy is not None:
            return self._entrywise(n, idx)
        raise UnsupportedError(f"symgrad cannot print {n.op.name} of {describe(n)} in index "
                               f"notation yet")

    def _entrywise(self, n: Node, idx) -> tuple[str, int]:
        """An entrywise op: its scalar form printed over the operands' entries."""
        holders, memo = [], {}
        for k, a in enumerate(n.args):
            h = core.variable(f"#entry{k}", kind=core.Kind.SYMBOL)
            holders.append(h)
            memo[h] = self.entry(a, self.align(a, n.shape, idx))
        scalar = Node(n.op, tuple(holders), n.params)
        P = copy.copy(self.P)
        P.memo = memo
        return P.fmt(scalar)


def index_notation(root: Node, P) -> str:
    """root in per-slice matrix notation (symgrad/slices.py: \\sum_{i=1}^{B} X_{i}^\\top
    G_{i}) where it has one no longer than its index notation (products of broadcast slices
    can be long-winded), else in index notation."""
    sliced = to_slices([root], set(P.taken))
    if sliced is None:
        return entries(root, P)
    text = P(sliced[0])
    try:
        other = entries(root, P)
    except UnsupportedError:  # no index notation for some op: the per-slice form it is
        return text
    return text if len(text) <= len(other) else other


def entries(root: Node, P) -> str:
    """root in index notation: [entry]_{ijk}, or the scalar's value."""
    w = IndexWriter(P, root)
    idx = tuple(w.fresh() for _ in root.shape)
    body, _ = w.entry(root, idx)
    if not idx:
        return body
    idx = w.unit(root, idx)
    if P.is_latex:
        return rf"\left[ {body} \right]" + w.sub(idx)
    return f"[{body}]_({','.join(idx)})"
