"""Functions in LaTeX: an op's spelling (Op.spelling) and its subscript -> its constructor.

Read from the registry at call time, so an op declared later (sg.elementwise) is read too.
"""

from __future__ import annotations

from ..errors import AmbiguousInputError
from ..node import Node
from ..op import REGISTRY
from ..ops import api, core
from .declare import parse_shape


def axis_from_sub(sub: str | None, what: str):
    if sub is None:
        return None  # over all entries: the printer labels every other reduction
    s = sub.replace(" ", "").lower()
    if s in ("row", "rows", "1", "-1"):
        return 1
    if s in ("col", "cols", "column", "columns", "0"):
        return 0
    raise AmbiguousInputError(f"{what}_{{{sub}}}: write {what}_{{\\mathrm{{row}}}} (each row) "
                              f"or {what}_{{\\mathrm{{col}}}} (each column)")


def _reduction(fn, what: str):
    def build(x: Node, sub: str | None) -> Node:
        axis = axis_from_sub(sub, what)
        if axis is not None and x.ndim == 1:  # a labelled 1-D vector runs along the label:
            # the column (n, 1) for _{col}, the row (1, n) for _{row}, so the reduction is over
            # its entries (the other way round it would be over a unit axis, silently trivial)
            x = api.reshape(x, (x.shape[0], 1) if axis == 0 else (1, x.shape[0]))
        elif axis is not None and x.ndim == 0:
            axis = None
        return fn(x, axis)

    return build


def _shaped(fn, what: str):
    def build(x: Node, sub: str | None) -> Node:
        if sub is None:
            raise AmbiguousInputError(f"{what} needs the shape it builds: {what}_{{p \\times q}}")
        return fn(x, parse_shape(sub))

    return build


def _plain(fn):
    def build(x: Node, sub: str | None) -> Node:
        if sub is not None:
            raise AmbiguousInputError(f"a subscript {sub!r} on this function has no meaning")
        return fn(x)

    return build


def function(name: str):
    """The constructor of the op named `name` from its spelling: (x, subscript) -> Node."""
    op = REGISTRY.get(name)
    sp = op.spelling if op is not None else None
    if sp is None:
        return None
    if sp.subscript == "axis":
        return _reduction(sp.build, sp.latex)
    if sp.subscript == "shape":
        return _shaped(sp.build, sp.latex)
    return _plain(sp.build or (lambda x: Node(op, (core.as_node(x),))))
