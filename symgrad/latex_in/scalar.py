"""Scalar LaTeX (elementwise function bodies, coefficients) through latex2sympy2.

latex2sympy2 pins an old antlr4 runtime that conflicts with other packages, so it is an
optional dependency kept behind this one module: symgrad imports and works without it.
"""

from __future__ import annotations

import sympy

from ..errors import SymgradError, UnsupportedError


def parse_scalar_latex(text: str) -> sympy.Expr:
    """A scalar LaTeX formula as a SymPy expression (\\log is the natural log here)."""
    try:
        from latex2sympy2 import latex2sympy
    except ImportError as exc:
        raise UnsupportedError(
            "reading a scalar function from LaTeX needs latex2sympy2 "
            "(pip install 'symgrad[latex]'); or pass a SymPy expression"
        ) from exc
    try:
        expr = latex2sympy(text)
    except Exception as exc:  # noqa: BLE001 -- the antlr parser raises many types
        raise SymgradError(f"cannot read the scalar LaTeX {text!r}: {exc}") from None
    # latex2sympy2 reads \log as base 10 (log(x, 10)); in matrix calculus \log is natural.
    expr = expr.replace(
        lambda e: isinstance(e, sympy.log) and len(e.args) == 2 and e.args[1] == 10,
        lambda e: sympy.log(e.args[0]),
    )
    reals = {s: sympy.Symbol(s.name, real=True) for s in expr.free_symbols}
    return expr.xreplace(reals)
