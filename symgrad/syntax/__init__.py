"""One entry for every input syntax: LaTeX (`sg.parse`), NumPy-style Python (`W @ X + b`,
`tanh(x)`, `.T`, `**`) and matrixcalculus.org's ASCII (`x'*A*x`, `inv(A)`, `A.*B`, `A./B`,
`norm2(x)`, `tr(A)`).

Python and ASCII are parsed with `ast` and walked over a whitelist (walker.py): user text is
never evaluated. Undeclared names get shapes inferred under stated assumptions (infer.py).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..errors import InputSyntaxError, SymgradError, UnknownSymbolError
from ..latex_in.declare import Declarations, ShapesArg, declarations
from ..latex_in.parser import parse_document
from ..node import Node
from . import ascii as ascii_syntax
from .algebra import Ascii, Nodes
from .infer import Shapes
from .latex import infer_latex
from .walker import Source, Walker, parse_python

__all__ = ["SYNTAXES", "Parsed", "detect_syntax", "parse_input", "read_input"]

SYNTAXES = ("auto", "latex", "python", "ascii")
_LATEX = re.compile(r"\\[A-Za-z]|[{}]")
_PYTHON = re.compile(r"@|\*\*|\.T\b|\b(?:sg|np|numpy|symgrad)\.")
_ASCII = re.compile(r"'|\.\*|\./|\.\^|\^|\b(?:norm2|tr)\s*\(")


@dataclass
class Parsed:
    """The objective read from the input, and how it was read."""

    expr: Node
    syntax: str  # "latex", "python" or "ascii"
    label: str | None = None  # f in "f = ..."
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # inferred ones
    assumptions: list[str] = field(default_factory=list)
    decls: Declarations = field(default_factory=Declarations)


def detect_syntax(text: str) -> str:
    """latex, python or ascii: backslashes and braces are LaTeX, `@` `**` `.T` Python, `'`
    `.*` `^` ASCII; valid Python with `*` reads as ASCII (`*` the matrix product, as on
    matrixcalculus.org); other valid Python as Python; the rest as LaTeX (`W X + b`).
    read_input falls back to LaTeX when the Python or ASCII reading is not even syntax."""
    if _LATEX.search(text):
        return "latex"
    if _PYTHON.search(text):
        return "python"
    if _ASCII.search(text):
        return "ascii"
    try:
        ast.parse(text, mode="exec")  # parsed only, never run
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "latex"
    return "ascii" if "*" in text else "python"


def read_input(text: str, shapes: ShapesArg = None, syntax: str = "auto") -> Parsed:
    """Read `text` in `syntax`, inferring the shapes of undeclared names (see `Parsed`)."""
    if not isinstance(text, str):
        raise SymgradError(f"the input must be a string, not {type(text).__name__}")
    if syntax not in SYNTAXES:
        raise SymgradError(f"unknown syntax {syntax!r}; choose one of {', '.join(SYNTAXES)}")
    if syntax == "auto":
        syntax = detect_syntax(text)
        if syntax != "latex":  # x^T A x, x'Ax: not Python, maybe LaTeX written plainly
            try:
                return read_input(text, shapes, syntax)
            except InputSyntaxError as exc:
                try:
                    return read_input(text, shapes, "latex")
                except SymgradError:
                    raise exc from None
    decls = declarations(shapes)
    notes: list[str] = []
    if syntax == "ascii" and "*" in text and not re.search(r"\.\*", text) \
            and re.search(r"[A-Z]\w*'?\s*\*\s*[A-Z]", text):
        notes.append("* is the matrix product (ASCII); .* the elementwise product")
    if syntax == "latex":
        try:
            res = parse_document(text, decls)
        except UnknownSymbolError:
            inferred = infer_latex(text, decls)
            if inferred is None:
                raise
            guessed, more = inferred
            _declare(decls, guessed)
            res = parse_document(text, decls)
            return Parsed(res.expr, syntax, res.label, guessed, more + notes, res.decls)
        return Parsed(res.expr, syntax, res.label, {}, notes, res.decls)
    src = Source(text, *ascii_syntax.to_python(text)) if syntax == "ascii" \
        else Source(text, text)
    module = parse_python(src)
    shape_alg = Shapes(decls)
    try:
        alg = Ascii(shape_alg) if syntax == "ascii" else shape_alg
        Walker(src, alg).run(module)
    except SymgradError:
        if shape_alg.guesses:
            raise
    guessed: dict[str, tuple[str, ...]] = {}
    if shape_alg.guesses:
        guessed, more = shape_alg.assumptions(set(decls.sizes) | set(shape_alg.guesses))
        _declare(decls, guessed)
        notes = more + notes
    node_alg = Nodes(decls)
    alg = Ascii(node_alg) if syntax == "ascii" else node_alg
    value, label = Walker(src, alg).run(module)
    expr = alg.value(value) if syntax == "ascii" else value
    return Parsed(expr, syntax, label, guessed, notes, decls)


def _declare(decls: Declarations, guessed: dict[str, tuple[str, ...]]) -> None:
    for name, dims in guessed.items():
        decls.declare(name, dims)


def parse_input(text: str, shapes: ShapesArg = None, syntax: str = "auto") -> Node:
    """The expression `text` writes, in LaTeX, NumPy-style Python or ASCII (`syntax="auto"`
    tells them apart); undeclared shapes are inferred (read_input says how)."""
    return read_input(text, shapes, syntax).expr
