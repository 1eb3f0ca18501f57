"""Sizes and shapes: ints or SymPy positive-integer expressions; NumPy broadcasting rules."""

from __future__ import annotations

from collections.abc import Iterable

import sympy

from .errors import ShapeError, SizeError

Size = int | sympy.Expr
Shape = tuple[Size, ...]


def as_size(s: object) -> Size:
    """Normalize a size: a positive int, or a SymPy expression known to be a positive integer."""
    if isinstance(s, bool):
        raise SizeError(f"size {s!r} is a bool, not a positive integer")
    if s is None:
        raise SizeError("a size is missing (None)")
    if isinstance(s, (list, tuple, set, dict)) or getattr(s, "ndim", 0):
        raise SizeError(f"a size is one positive integer or symbolic size, not "
                        f"{type(s).__name__} {s!r}; pass each size as its own argument, "
                        f"e.g. sg.matrix(\"A\", 2, 3)")
    if isinstance(s, str):
        if not s.isidentifier():
            raise SizeError(f"size name {s!r} is not a valid identifier")
        s = sympy.Symbol(s, positive=True, integer=True)
    try:
        e = sympy.sympify(s)
    except (sympy.SympifyError, TypeError) as exc:
        raise SizeError(f"size {s!r} is not a positive integer or a symbolic size") from exc
    if not isinstance(e, sympy.Expr):
        raise SizeError(f"size {s!r} is not a positive integer or a symbolic size")
    if e.is_Integer:
        if int(e) <= 0:
            raise SizeError(f"size {int(e)} is not a positive integer")
        return int(e)
    if e.is_Number:
        raise SizeError(f"size {e} is not an integer")
    if e.is_integer is not True or e.is_positive is not True:
        raise SizeError(
            f"size {e} is not known to be a positive integer; "
            "make sizes with sg.dims(...) (positive integer symbols)"
        )
    return e


def as_shape(shape: Iterable[object]) -> Shape:
    return tuple(as_size(s) for s in shape)


def fmt_shape(shape: Shape) -> str:
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def numel(shape: Shape) -> Size:
    out: Size = 1
    for s in shape:
        out = out * s
    return out


def broadcast_shapes(a: Shape, b: Shape, what: str = "") -> Shape:
    """NumPy broadcasting; a size broadcasts only when it is literally 1."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ShapeError(what or f"shapes {fmt_shape(a)} and {fmt_shape(b)} do not broadcast")
    return tuple(reversed(out))


def can_broadcast(src: Shape, dst: Shape) -> bool:
    try:
        return broadcast_shapes(src, dst) == dst
    except ShapeError:
        return False
