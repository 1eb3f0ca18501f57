"""symgrad's exception types: every bad input raises one of these, never a bare Python error."""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error symgrad raises for bad input."""


class ShapeError(SymgradError, ValueError):
    """Operands whose shapes do not fit the operation (names both operands and shapes)."""


class SizeError(SymgradError, ValueError):
    """A size that is not a positive integer, or sizes that cannot be bound consistently."""


class DifferentiationError(SymgradError, ValueError):
    """A derivative that cannot be taken as asked (not a variable, missing upstream...)."""


class UnsupportedError(SymgradError, NotImplementedError):
    """An operation or a form symgrad does not handle; it refuses rather than guesses."""


class EvaluationError(SymgradError, ValueError):
    """Bad numeric input: missing variables, arrays of the wrong shape, inconsistent sizes."""


class ExpressionTypeError(SymgradError, TypeError):
    """A symbolic expression used where a concrete value is needed (truth value, iteration)."""
