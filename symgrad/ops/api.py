"""Constructors of every op, gathered for the public API and the Node operators."""

from __future__ import annotations

import sys

import sympy

from ..errors import SizeError
from ..node import install_operators
from .arith import add, div, mul, neg, pow, sub  # noqa: F401
from .axes import expand_dims, swapaxes  # noqa: F401
from .core import (  # noqa: F401
    as_node,
    constant,
    eye,
    matrix,
    name,
    number,
    ones,
    scalar,
    tensor,
    variable,
    vector,
    zeros,
)
from .einsum import einsum  # noqa: F401
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
from .reduce import cumsum, logsumexp, mean, softmax, sum_  # noqa: F401
from .shape import broadcast_to, reshape, sum_to, transpose  # noqa: F401


def dims(names: str) -> sympy.Symbol | tuple[sympy.Symbol, ...]:
    """Symbolic sizes: positive-integer SymPy symbols, as sympy.symbols makes them:
    n, m, k = dims("n m k"); one name gives the size itself, n = dims("n") (dims("n,") a
    1-tuple)."""
    if not isinstance(names, str) or not names.replace(",", " ").split():
        raise SizeError(f"dims() takes names separated by spaces, e.g. dims(\"n m k\"), "
                        f"got {names!r}")
    out = []
    for nm in names.replace(",", " ").split():
        if not nm.isidentifier():
            raise SizeError(f"{nm!r} is not a valid size name")
        out.append(sympy.Symbol(nm, positive=True, integer=True))
    if len(out) == 1 and not names.strip().endswith(","):
        return out[0]
    return tuple(out)


install_operators(sys.modules[__name__])  # nodes get + - * / ** @ .T from this namespace
