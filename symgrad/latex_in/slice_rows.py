"""Per-slice definition rows, `G_{i} &= \\tanh(X_{i} W)`: what symgrad/slices.py prints for a
named part that depends on slice indices, read back as the array whose slice i is the right side
(index notation and slices: indices.py)."""

from __future__ import annotations

from ..errors import AmbiguousInputError, LatexSyntaxError
from ..node import Node
from ..ops import api
from .declare import key_of
from .indices import IndexReader, has_indices, read_indices
from .tree import A


def slice_definition(b, lhs: A, rhs: A) -> tuple[str, Node] | None:
    """A per-slice definition `G_{i} = e` (what symgrad prints for a named part that depends on
    slice indices): (G's name, the array whose slice i is e); None when the row is none, as
    `W_{1} = ...`, a name of its own, or an e that uses no index."""
    while lhs.kind in ("group", "paren"):
        lhs = lhs.kids[0]
    if lhs.kind != "name" or not lhs.kids[1]:
        return None
    base, sub, _ = lhs.kids
    letters = read_indices(sub)
    known = b.d.vars.keys() | b.d.defs.keys()
    if (letters is None or "1" in letters or len(set(letters)) < len(letters)
            or key_of(base + "_" + sub.replace(" ", "")) in known or not has_indices(b, rhs)):
        return None
    b.root_ast = rhs
    r = IndexReader(b, rhs)
    t = r.value(rhs)
    loose = [c for c in t.idx if c not in letters]
    if loose:
        raise r.fail(LatexSyntaxError, f"the index {loose[0]} is free in the definition of "
                     f"{base}_{{{sub}}} but not in its subscript: sum over it or list it",
                     rhs.pos)
    shape = []
    for c in letters:
        if c in t.idx:
            shape.append(t.node.shape[t.idx.index(c)])
        elif c in r.sizes:
            shape.append(r.sizes[c][0])
        else:
            raise r.fail(AmbiguousInputError, f"the size of the index {c} of {base}_{{{sub}}} "
                         "is not determined: the definition does not use it", lhs.pos)
    order = [c for c in letters if c in t.idx]
    tail = tuple(range(len(t.idx), t.node.ndim))
    x = api.transpose(t.node, tuple(t.idx.index(c) for c in order) + tail)
    unit = tuple(s if c in t.idx else 1 for c, s in zip(letters, shape))
    x = api.reshape(x, unit + x.shape[len(order):])
    full = tuple(shape) + x.shape[len(letters):]
    return base, (x if x.shape == full else api.broadcast_to(x, full))
