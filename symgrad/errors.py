"""symgrad's exception types: every bad input raises one of these, never a bare Python error."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

_PACKAGE = os.path.realpath(Path(__file__).parent) + os.sep


class SymgradError(Exception):
    """Base class of every error symgrad raises for bad input."""


class ShapeError(SymgradError, ValueError):
    """Operands whose shapes do not fit the operation (names both operands and shapes)."""


class SizeError(SymgradError, ValueError):
    """A size that is not a positive integer, or sizes that cannot be bound consistently."""


class InvalidNameError(SymgradError, ValueError):
    """A variable name that cannot print as one LaTeX symbol; the message says which are allowed."""


class DifferentiationError(SymgradError, ValueError):
    """A derivative that cannot be taken as asked (not a variable, missing upstream...)."""


class UnsupportedError(SymgradError, NotImplementedError):
    """An operation or a form symgrad does not handle; it refuses rather than guesses."""


class EvaluationError(SymgradError, ValueError):
    """Bad numeric input: missing variables, arrays of the wrong shape, inconsistent sizes."""


class ExpressionTypeError(SymgradError, TypeError):
    """A symbolic expression used where a concrete value is needed (truth value, iteration)."""


class LatexError(SymgradError, ValueError):
    """LaTeX input symgrad cannot read; `.column` (1-based) and `.text` locate the problem."""

    def __init__(self, message: str, text: str | None = None, column: int | None = None):
        super().__init__(message)
        self.text, self.column = text, column


class LatexSyntaxError(LatexError):
    """Malformed or unsupported LaTeX; the message shows the input with a caret."""


class UnknownSymbolError(LatexError):
    """Symbols without a declared shape; `.names` lists them all."""

    def __init__(self, message: str, names: tuple[str, ...] = (), text: str | None = None,
                 column: int | None = None):
        super().__init__(message, text, column)
        self.names = names


class AmbiguousInputError(LatexError):
    """Input with more than one reading; the message says how to write the one meant."""


class ToolError(SymgradError, RuntimeError):
    """An external program symgrad runs (pdflatex, pdftoppm) is missing or failed; the message
    says which, and how to install it or what it reported."""


class InputSyntaxError(LatexSyntaxError):
    """Malformed Python or ASCII (matrixcalculus.org) input to `symgrad.syntax.parse_input`;
    `.column` and the caret in the message locate it, as for LaTeX."""


class SymgradWarning(UserWarning):
    """Something symgrad did differently from what was asked, and why (a missing font)."""


def warn(message: str, category: type[Warning] = SymgradWarning) -> None:
    """Warn at the user's line: the first caller outside symgrad, never symgrad's own source."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.realpath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
