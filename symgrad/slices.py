"""Per-slice matrix notation: expressions over arrays of three or more axes that act slice by
slice along leading (batch) axes, printed as matrix expressions of the slices.

X_{i} is the i-th slice of X along its leading axis (a matrix when X has three axes; X_{ij}
slices two leading axes of a four-axis array), and a sum over the batch is written out with its
range, as in the textbooks' per-example sums: the gradient of sum(tanh(X W + b)^2) w.r.t. W is
`\\sum_{i=1}^{B} X_{i}^\\top G_{i}`. An expression reads per slice when every array of three or
more axes in it is used slice by slice: entrywise ops whose operands carry the same batch axes
or none (broadcast over the batch), batched contractions of the `bij,bjk->bik` / `bij,jk->bik`
kind, transposes of the trailing axes, reductions and softmax over trailing axes, broadcasts;
the batch axes are collapsed by sums (einsum `btd,bth->dh`, sum over axis 0). Anything else
(a batch axis moved to the trailing ones, a per-slice contraction that is no matrix product, a
result of three or more axes, a sum over the batch inside a slice) is no per-slice form:
`to_slices` answers None and the caller prints index notation (symgrad/tensor_print.py).

The result is a print-only tree: matrix ops over two private leaves, SLICE (X_{i}) and
SLICE_SUM (\\sum_{i=1}^{B} ...), which the matrix printer and the naming of shared parts
(symgrad/shared.py) handle like any other node. Neither is registered: they never evaluate,
differentiate or simplify.
"""

from __future__ import annotations

from .errors import SymgradError
from .node import Node, substitute, topo
from .op import ADD, ATOM, HAD, Op
from .ops import core
from .ops.arith import mul
from .ops.axes import PERMUTE, REGROUP
from .ops.einsum import EINSUM, einsum, letter_sizes
from .ops.linalg import matmul
from .ops.reduce import LSE, SOFTMAX, SUM
from .ops.shape import (
    BROADCAST,
    RESHAPE,
    SUM_TO,
    T,
    broadcast_to,
    index_notation_only,
    reshape,
    transpose,
)
from .ops.shape import _sum_to_as_sum as sum_to_as_sum

POOL = "ijklmpqrstuvwabcdefgh"


class _NoSlices(Exception):
    """The expression has no per-slice form (the caller prints index notation)."""


# ---- the two print-only leaves --------------------------------------------------------------
def _print_slice(n: Node, P) -> tuple[str, int]:
    """X_{i}; (W_{q})_{i} and \\left(\\frac{\\partial L}{\\partial f}\\right)_{i} when the
    array's own text has a subscript, a superscript or a space."""
    x, idx = n.params
    text, prec = P.fmt(x)
    if prec < ATOM or any(c in text for c in "_^ "):
        text = P.paren(text)
    if not P.is_latex:
        return f"{text}[{','.join(idx)}]", ATOM
    return text + "_{" + "".join(idx) + "}", ATOM


def _print_slice_sum(n: Node, P) -> tuple[str, int]:
    """\\sum_{i=1}^{B} body: the sum binds a signed term (a product or a Hadamard product,
    as the parser reads it), so a sum as the body gets parentheses; as an operand, the whole
    has the precedence of a sum."""
    letters, sizes = n.params
    body = P.arg(n.args[0], HAD)
    if P.is_latex:
        sums = " ".join(rf"\sum_{{{c}=1}}^{{{P.size(s)}}}" for c, s in zip(letters, sizes))
    else:
        sums = "Σ_" + "".join(letters)
    return f"{sums} {body}", ADD


SLICE = Op("slice", shape=lambda args, params: params[0].shape[len(params[1]):],
           print=_print_slice)
SLICE_SUM = Op("slice_sum", shape=lambda args, params: args[0].shape, print=_print_slice_sum)


def is_slice(n: Node) -> bool:
    return n.op is SLICE


def slice_base(n: Node) -> Node:
    """The array a SLICE leaf is a slice of."""
    return n.params[0]


# ---- the conversion -------------------------------------------------------------------------
def _tensorish(n: Node) -> bool:
    return n.ndim > 2 or n.op.print is index_notation_only


def _entrywise(n: Node) -> bool:
    return n.op.entry is None and (n.op.algebra is not None or n.op.sympy is not None)


class _Slicer:
    def __init__(self, roots: list[Node], taken: set[str]) -> None:
        nodes = topo(roots, leaf=lambda m: m.op is core.NAME)
        self.deep: dict[Node, bool] = {}  # has the subtree an array beyond matrices?
        for m in nodes:
            self.deep[m] = _tensorish(m) or (m.op is not core.NAME and any(
                self.deep[a] for a in m.args))
        for m in nodes:
            for s in m.shape:
                taken |= {str(f) for f in getattr(s, "free_symbols", ())}
            if m.op in (core.VAR, core.NAME):
                taken.add(str(m.params[0]))
        self.pool = [c for c in POOL if c not in taken]
        self.outer_memo: dict[Node, Node] = {}
        self.cut_memo: dict[tuple, Node] = {}

    def letters(self, k: int) -> tuple[str, ...]:
        if k > len(self.pool):
            raise _NoSlices
        return tuple(self.pool[:k])

    # -- outside the slices: matrix expressions, sums over the batch --------------------------
    def outer(self, n: Node) -> Node:
        hit = self.outer_memo.get(n)
        if hit is None:
            hit = self.outer_memo[n] = self._outer(n)
        return hit

    def _outer(self, n: Node) -> Node:
        if not self.deep.get(n, True):
            return n
        if n.ndim > 2 or n.op is core.NAME:  # a tensor itself, or named one: no matrix form
            raise _NoSlices
        if n.op is SUM_TO:
            return self.outer(sum_to_as_sum(n))
        if n.op is SUM:
            return self._collapse_sum(n)
        if n.op is EINSUM:
            return self._collapse_einsum(n)
        if n.op.print is index_notation_only:
            raise _NoSlices
        return Node(n.op, tuple(self.outer(a) for a in n.args), n.params)

    def _collapse_sum(self, n: Node) -> Node:
        """sum over the batch axes (and maybe some trailing ones) of an array: Σ_i (...)_i."""
        x = n.args[0]
        axes, keepdims = n.params
        if x.ndim <= 2:
            return Node(SUM, (self.outer(x),), n.params)
        k = x.ndim - 2
        if not set(range(k)) <= set(axes) or keepdims:
            raise _NoSlices
        idx = self.letters(k)
        body = self.cut(x, idx)
        rest = tuple(a - k for a in axes if a >= k)
        if rest:
            body = Node(SUM, (body,), (rest, False))
        return Node(SLICE_SUM, (body,), (idx, x.shape[:k]))

    def _collapse_einsum(self, n: Node) -> Node:
        """A contraction summing over the leading axes of its arrays: Σ_i (product of the
        slices), e.g. btd,bth->dh is Σ_i X_iᵀ G_i."""
        terms, out = n.params
        batch: list[str] = []
        for t, x in zip(terms, n.args):
            batch += [c for c in t[:max(x.ndim - 2, 0)] if c not in batch]
        if any(c in out for c in batch):
            raise _NoSlices
        idx = dict(zip(batch, self.letters(len(batch))))
        sizes = letter_sizes(n)
        body = self._product(n, batch, idx, terms, out)
        if not batch:
            return body
        return Node(SLICE_SUM, (body,), (tuple(idx[c] for c in batch),
                                         tuple(sizes[c] for c in batch)))

    def _product(self, n: Node, batch, idx: dict, terms, out: str) -> Node:
        """The per-slice contraction: each operand stripped of its leading batch letters."""
        new_terms, xs = [], []
        for t, x in zip(terms, n.args):
            k = 0
            while k < len(t) and t[k] in batch:
                k += 1
            if any(c in batch for c in t[k:]):
                raise _NoSlices  # a batch axis among the trailing ones
            new_terms.append(t[k:])
            xs.append(self.cut(x, tuple(idx[c] for c in t[:k])))
        return matrix_product(tuple(new_terms), out, xs)

    # -- inside a slice: the slice at indices idx of n's leading axes ------------------------
    def cut(self, n: Node, idx: tuple[str, ...]) -> Node:
        if not idx:
            return self.outer(n)
        key = (n, idx)
        hit = self.cut_memo.get(key)
        if hit is None:
            hit = self.cut_memo[key] = self._cut(n, idx)
        return hit

    def _cut(self, n: Node, idx: tuple[str, ...]) -> Node:
        k, op = len(idx), n.op
        if n.ndim - k > 2 or n.ndim < k:
            raise _NoSlices
        rest = n.shape[k:]
        if op in (core.VAR, core.NAME):
            return Node(SLICE, (), (n, idx))
        if op is core.ONES:
            return core.ones(*rest)
        if op is core.ZEROS:
            return core.zeros(*rest)
        if op is EINSUM:
            terms, out = n.params
            letters = dict(zip(out[:k], idx))
            return self._product(n, out[:k], letters, terms, out[k:])
        if op in (SUM, LSE, SOFTMAX):
            axes = n.params[0]
            if any(a < k for a in axes):
                raise _NoSlices  # a reduction over the batch inside a slice
            inner = tuple(a - k for a in axes)
            if op is not SUM and (n.ndim - k != 2 or len(inner) != 1 or n.params[1:] == (True,)):
                raise _NoSlices  # softmax_{row} or _{col} of a matrix slice only (parse reads)
            return Node(op, (self.cut(n.args[0], idx),), (inner,) + tuple(n.params[1:]))
        if op in (PERMUTE, T):
            if op is T and n.ndim < 2:
                raise _NoSlices
            r = n.ndim  # T swaps the last two axes (numpy's swapaxes(x, -1, -2))
            perm = n.params[0] if op is not T else tuple(range(r - 2)) + (r - 1, r - 2)
            if sorted(perm[:k]) != list(range(k)):
                raise _NoSlices  # a batch axis moves among the trailing ones
            src = [""] * k
            for a in range(k):
                src[perm[a]] = idx[a]
            inner = self.cut(n.args[0], tuple(src))
            tail = tuple(p - k for p in perm[k:])
            if tail == tuple(range(len(tail))):
                return inner
            return _t(inner) if len(tail) == 2 else transpose(inner, tail)
        if op in (RESHAPE, REGROUP):
            x = n.args[0]
            if x.ndim < k or x.shape[:k] != n.shape[:k]:
                raise _NoSlices
            return reshape(self.cut(x, idx), rest)
        if op is SUM_TO:
            return self.cut(sum_to_as_sum(n), idx)
        if op is BROADCAST:
            inner = self._operand(n.args[0], n.shape, idx)
            return inner if inner.shape == rest else broadcast_to(inner, rest)
        if _entrywise(n):
            args = tuple(self._operand(a, n.shape, idx) for a in n.args)
            return Node(op, args, n.params)
        raise _NoSlices

    def _operand(self, a: Node, shape, idx) -> Node:
        """The slice of an operand broadcast to `shape` (NumPy: trailing axes align): a batched
        operand sliced at the indices of the batch axes it has (1 for a unit one), the others
        as they are."""
        k = len(idx)
        j = a.ndim - (len(shape) - k)
        if j <= 0:
            if self.deep.get(a, True):
                raise _NoSlices  # a sum over a batch inside a slice: no nested sums yet
            return a
        sub = []
        for p in range(j):  # a unit axis broadcast along the batch: its one slice, index 1
            if a.shape[p] == shape[k - j + p]:
                sub.append(idx[k - j + p])
            elif a.shape[p] == 1:
                sub.append("1")
            else:
                raise _NoSlices
        if all(c == "1" for c in sub):
            raise _NoSlices  # U_{1} reads back as a name of its own, not a slice (parser)
        return self.cut(a, tuple(sub))


def matrix_product(terms: tuple[str, ...], out: str, xs: list[Node]) -> Node:
    """The contraction as a matrix expression (A B, Aᵀ x, xᵀ A y, Sᵀ G Wᵀ, ...), the operand
    holding the result's rows on the left (Xᵀ G rather than (Gᵀ X)ᵀ); _NoSlices when it is
    none."""
    keep = [k for k, (t, x) in enumerate(zip(terms, xs)) if not (  # times 1: no factor
        x.op is core.ONES and x.ndim == 1 and any(t in u for u in terms[:k] + terms[k + 1:]))]
    terms, xs = tuple(terms[k] for k in keep), [xs[k] for k in keep]
    same: dict[str, Node] = {}  # operands indexed alike multiply entrywise: A ⊙ B
    for t, x in zip(terms, xs):
        same[t] = mul(same[t], x) if t in same else x
    terms, xs = tuple(same), list(same.values())
    if any(len(t) > 2 for t in terms) or len(out) > 2:
        raise _NoSlices
    p = _chain(terms, out, xs) if len(xs) > 1 else None
    if p is not None:
        return p
    e = einsum(",".join(terms) + "->" + out, *xs)
    if e.op is EINSUM:
        raise _NoSlices
    return e


def _chain(terms: tuple[str, ...], out: str, xs: list[Node]) -> Node | None:
    """A contraction that is a chain of matrix products, from the operand with the result's
    first axis (or a vector, for a scalar) to the one with its last; None when it is none."""
    flat = "".join(terms)
    if any(len(set(t)) < len(t) for t in terms) or any(
            flat.count(c) != (1 if c in out else 2) for c in set(flat) | set(out)):
        return None
    coef = []
    parts = []
    for x in xs:
        k, x = _coefficient(x)
        parts.append(x)
        coef += [k] if k is not None else []
    if out:
        start = next(k for k, t in enumerate(terms) if out[0] in t)
        link = terms[start].replace(out[0], "")
        node = parts[start] if terms[start][0] == out[0] else _t(parts[start])
        if not link:
            return None  # an outer product, not a chain
    else:
        start = next((k for k, t in enumerate(terms) if len(t) == 1), None)
        if start is None:
            return None  # a trace-like contraction
        link, node = terms[start], parts[start]  # xᵀ ...
    used = {start}
    while link:
        k = next((k for k, t in enumerate(terms) if link in t and k not in used), None)
        if k is None:
            return None
        used.add(k)
        t, y = terms[k], parts[k]
        node = matmul(node, y if t[0] == link else _t(y))
        link = t.replace(link, "")
        if link in out:
            break
    if len(used) != len(terms) or (link or "") != out[1:]:
        return None
    for k in reversed(coef):  # 2 Xᵀ M, not Xᵀ 2 M
        node = Node(k[0], (k[1], node), k[2])
    return node


def _t(x: Node) -> Node:
    """xᵀ, and (xᵀ)ᵀ = x."""
    return x.args[0] if x.op is T else transpose(x)


def _coefficient(x: Node):
    """((the mul op, the number, its params), the rest) of a number times x; (None, x)."""
    if (x.op.algebra == "mul" and len(x.args) == 2 and x.args[0].op is core.NUMBER
            and x.args[1].shape == x.shape):
        return (x.op, x.args[0], x.params), x.args[1]
    return None, x


def to_slices(roots: list[Node], taken: set[str] | None = None) -> list[Node] | None:
    """The expressions in per-slice matrix notation (print-only trees of matrices), or None
    when one has no such form (see the module docstring)."""
    s = _Slicer(list(roots), set(taken or ()))
    try:
        out = [s.outer(r) for r in roots]
    except (_NoSlices, RecursionError, SymgradError):  # no per-slice form: index notation
        return None
    for m in topo(out, leaf=lambda m: m.op is core.NAME):
        if m.op is not SLICE and _tensorish(m):
            return None  # a per-slice contraction or regrouping with no matrix form
    return out


# ---- named per-slice parts ------------------------------------------------------------------
def _print_slice_name(n: Node, P) -> tuple[str, int]:
    _, idx, label = n.params
    if not P.is_latex:
        return f"{P.name(label)}[{','.join(idx)}]", ATOM
    return P.name(label) + "_{" + "".join(idx) + "}", ATOM


# A named part that depends on slice indices: G_{i}, defined on a row `G_{i} &= ...` (its one
# argument) and used under that name; print-only, as SLICE. Params: (the name with its
# indices, G_i, as a NAME's first param names it; the indices; the letter).
SLICE_NAME = Op("slice_name", shape=lambda args, params: args[0].shape, print=_print_slice_name)
# Letters of per-slice parts: G for what shared.py calls M (anything else: in a gradient, the
# signal back-propagated to a per-slice array), then M; a letter that is taken gives way to
# letters without a meaning of their own.
_FALLBACK = "UVNQKFEDCAB"


def free_indices(n: Node, names: dict[Node, tuple[str, ...]]) -> tuple[str, ...]:
    """The slice indices n depends on (`names`: those of the named parts in it), in pool
    order."""
    bound: dict[Node, set[str]] = {}
    for m in topo(n, leaf=lambda m: m.op is core.NAME or m.op is SLICE_NAME):
        if m.op is SLICE or m.op is SLICE_NAME:
            here = set(m.params[1]) - {"1"}  # the indices of both (1: a unit axis)
        elif m.op is core.NAME:
            here = set(names.get(m, ()))
        else:
            here = set().union(*(bound[a] for a in m.args)) if m.args else set()
            if m.op is SLICE_SUM:
                here -= set(m.params[0])
        bound[m] = here
    return tuple(sorted(bound[n], key=lambda c: (POOL.find(c), c)))


def in_sight(exprs: list[Node]) -> set[str]:
    """Names a new label must not take: variables, sliced arrays, named parts, sizes."""
    out: set[str] = set()
    for m in topo(exprs):
        sizes = list(m.shape)
        if m.op in (core.VAR, core.NAME):
            out.add(str(m.params[0]))
        elif m.op is SLICE:  # the sliced array and its batch sizes (H of X_{ij})
            base = m.params[0]
            out.add(str(base.params[0]))
            sizes += base.shape
        elif m.op is SLICE_SUM:  # \sum_{j=1}^{H}: H is in sight
            sizes += m.params[1]
        for s in sizes:
            out |= {str(f) for f in getattr(s, "free_symbols", ())}
    return out


def _clashes(letter: str, labels: set[str]) -> bool:
    """Would G_{i} read as one of the labels G, G_1, ...?"""
    return any(k == letter or k.startswith(letter + "_") for k in labels)


def subscript_parts(defs: list[Node], rows: list[Node], taken: set[str]):
    """The named parts (NAME nodes, inner first) of per-slice rows, those that depend on slice
    indices as SLICE_NAMEs G_{i}, and every label clear of the sliced arrays' names; and the
    rows written with them."""
    names: dict[Node, tuple[str, ...]] = {}
    for d in defs:
        names[d] = free_indices(d.args[0], names)
    mapping: dict[Node, Node] = {}
    used = set(taken)
    kept = {str(d.params[0]) for d in defs if not names[d]}  # the parts that keep their names
    out = []
    for d in defs:
        label, idx = str(d.params[0]), names[d]
        body = substitute(d.args[0], mapping) if mapping else d.args[0]
        if idx:
            cands = (["G", "M"] if label[0] == "M" else [label[0]]) + list(_FALLBACK)
            label = next(c for c in cands if not _clashes(c, used | kept))
            new = Node(SLICE_NAME, (body,), (f"{label}_{''.join(idx)}", idx, label))
        else:
            if label in used:
                label = next(c for c in "M" + _FALLBACK if not _clashes(c, used | kept))
            new = core.name(label, body)
        used.add(label)
        mapping[d] = new
        out.append(new)
    return out, substitute(list(rows), mapping) if mapping else list(rows)
