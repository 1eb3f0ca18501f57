"""Constructors of every op, gathered for the public API and the Node operators."""

from __future__ import annotations

import sympy

from ..errors import SizeError
from .arith import add, div, mul, neg, pow, sub  # noqa: F401
from .core import (  # noqa: F401
    as_node,
    constant,
    eye,
    matrix,
    name,
    number,
    ones,
    scalar,
    variable,
    vector,
    zeros,
)
from .elementwise import (  # noqa: F401
    abs_,
    cos,
    elementwise,
    exp,
    log,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    step,
    tanh,
)
from .kron import commutation, kron, unvec, vec  # noqa: F401
from .linalg import det, diag, inv, logdet, matmul, norm, outer, trace  # noqa: F401
from .reduce import logsumexp, mean, softmax, sum_  # noqa: F401
from .shape import broadcast_to, reshape, sum_to, transpose  # noqa: F401


def dims(names: str) -> tuple[sympy.Symbol, ...]:
    """Symbolic sizes: positive-integer SymPy symbols, e.g. n, m, k = dims("n m k")."""
    if not isinstance(names, str) or not names.split():
        raise SizeError(f"dims() takes names separated by spaces, got {names!r}")
    out = []
    for nm in names.replace(",", " ").split():
        if not nm.isidentifier():
            raise SizeError(f"{nm!r} is not a valid size name")
        out.append(sympy.Symbol(nm, positive=True, integer=True))
    return tuple(out)
