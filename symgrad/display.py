"""Rich displays for Jupyter: several results at once (`show`), generated code (`Source`), and
the helper that puts LaTeX inside prose between `$` for Markdown displays."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from types import SimpleNamespace

from . import printing
from .errors import SymgradError
from .latex_in.parser import parse as parse_latex
from .node import Node, install_printers
from .ops import core
from .printing import LATEX, UNICODE, Printer, Style
from .printing import latex as latex_of
from .shared import name_shared

__all__ = ["Source", "Display", "inline_math", "latex", "show", "unicode"]


class Source(str):
    """Generated source: a plain `str` that Jupyter shows as a highlighted Python block."""

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.rstrip()}\n```"


class Display:
    """Several expressions shown together, one aligned row each (see `show`)."""

    def __init__(self, rows: list[tuple[str | Node | None, Node]], style: Style) -> None:
        self.rows, self.style = rows, style

    def _lines(self, P: Printer) -> list[tuple[str, str]]:
        out = []
        for label, e in self.rows:
            if isinstance(label, Node) and label.op is core.VAR:  # the row is its gradient ∂L/∂W
                left = P.upstream(label.params[0])[0]
            elif isinstance(label, Node):  # a shared part: its name
                left = P(label)
            else:
                left = label or ""
            out.append((left, P(e)))
        return out

    def latex(self) -> str:
        """An amsmath `aligned` block (inside `$$` in Jupyter)."""
        rows = self._lines(Printer(self.style))
        body = " \\\\\n".join(f"{lhs} &= {rhs}" if lhs else f"&{rhs}" for lhs, rhs in rows)
        return "\\begin{aligned}\n" + body + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$$\n{self.latex()}\n$$"

    def __str__(self) -> str:
        return self.text()

    def text(self, style: Style = UNICODE) -> str:
        """Unicode rows, their `=` aligned."""
        rows = self._lines(Printer(style))
        width = max((len(lhs) for lhs, _ in rows), default=0)
        return "\n".join(f"{lhs:>{width}} = {rhs}" if lhs else " " * (width + 3) * bool(width)
                         + rhs for lhs, rhs in rows)

    def __repr__(self) -> str:
        return f"<symgrad display of {len(self.rows)} results>\n{self}"


def show(results, name_shared: bool = True, **options) -> Display:
    """Display results together: an expression, a list of them, or a dict mapping variables
    to their gradients (rows `∂L/∂W = ...`) or LaTeX labels to expressions. A part printed
    more often than it is worth is named on a row of its own (symgrad/shared.py: H = tanh(Z),
    P = softmax(...), ...), unless `name_shared` is False. Keywords are `latex()` options
    (`loss=r"\\ell"`, `upstream="bar"`, ...)."""
    style = _style(LATEX, options, "show")
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(None, e) for e in results]
    else:
        items = [(None, results)]
    rows: list[tuple[str | Node | None, Node]] = []
    for label, e in items:
        if isinstance(label, Node) and label.op is not core.VAR:
            label = latex_of(label, style)
        if label is not None and not isinstance(label, (str, Node)):
            raise SymgradError(f"show(): a label is a variable or a LaTeX string, got {label!r}")
        rows.append((label, core.as_node(e)))
    if name_shared:
        defs, exprs = _name_shared([e for _, e in rows], style)
        rows = [(d, d.args[0]) for d in defs] + [(lb, e) for (lb, _), e in zip(rows, exprs)]
    return Display(rows, style)


def _style(base: Style, options: dict, who: str) -> Style:
    try:
        return replace(base, **options) if options else base
    except TypeError as exc:
        raise SymgradError(f"{who}(): {exc}; the options are the fields of sg.Style") from None


def latex(expr, style: Style | None = None, *, inline: bool = False, **options):
    """Paper-style LaTeX (options override fields of the Style, as `loss=r"\\ell"`).

    An expression prints on one line, or, when a part of it is printed more often than it is
    worth, as an amsmath `aligned` block: the named parts first (`H &= \\tanh(Z)`), then the
    expression written with them. A list or dict of results prints as one such block (a dict
    labels its rows: a variable W gives `\\frac{\\partial L}{\\partial W}`). `inline=True`
    prints without names: one line for an expression, a list of lines for a list."""
    st = _style(style or LATEX, options, "latex")
    if inline:
        return printing.latex(expr, st)
    if isinstance(expr, (Mapping, list, tuple)):
        return show(expr, **_fields(st)).latex()
    e = core.as_node(expr)
    d = show([e], **_fields(st))
    return d.latex() if len(d.rows) > 1 else printing.latex(e, st)


def unicode(expr, style: Style | None = None, *, inline: bool = False) -> str:
    """Unicode math text (`W X + b 1ₖᵀ`); with named parts on lines of their own first, as
    `latex` does, unless `inline=True`. `str(e)` is `unicode(e)`."""
    st = style or UNICODE
    e = core.as_node(expr)
    if inline:
        return printing.unicode(e, st)
    d = show([e], **_fields(LATEX))
    return d.text(st) if len(d.rows) > 1 else printing.unicode(e, st)


def _fields(st: Style) -> dict:
    return {f.name: getattr(st, f.name) for f in fields(st)}


def _repr_latex(e: Node) -> str:
    """What Jupyter shows for an expression: the display when it names parts."""
    text = latex(e)
    return f"$$\n{text}\n$$" if text.startswith("\\begin") else f"$\\displaystyle {text}$"


def _name_shared(exprs: list[Node], style: Style = LATEX) -> tuple[list[Node], list[Node]]:
    return name_shared(exprs, style)


_ROW = re.compile(r"\\\\(?![A-Za-z])")
_DEFINED = re.compile(r"\s*(?:\\?[A-Za-z]+)(?:_\{?[A-Za-z0-9,]+\}?)?\s*")


def parse_display(text: str, shapes=None) -> list[tuple[str, Node]]:
    """The results of a display (`latex` of several results, or one written by hand in the
    same form), each read with the definitions of the display: [(its label, its value)].
    A row `Z &= ...` whose left side is a name is a definition; the others are results."""
    body = re.sub(r"\\(?:begin|end)\{aligned\}", " ", text)
    defs, results = [], []
    for row in (r.strip() for r in _ROW.split(body)):
        if not row:
            continue
        lhs, eq, rhs = row.partition("&=")
        if not eq:
            lhs, rhs = "", row.lstrip("&")
        if lhs.strip() and _DEFINED.fullmatch(lhs):
            defs.append(f"{lhs.strip()} = {rhs.strip()}")
        else:
            results.append((lhs.strip(), rhs.strip()))
    return [(lhs, parse_latex(" \\\\ ".join([rhs, *defs]), shapes)) for lhs, rhs in results]


# str(node), error messages (inline) and the Jupyter display of expressions print through here.
install_printers(SimpleNamespace(unicode=unicode, latex=latex, repr_latex=_repr_latex))


# ---- LaTeX in prose -------------------------------------------------------------------------
_START = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]+(?=[_^])")


def _group_end(s: str, i: int) -> int:
    """The index after a balanced {...} group starting at s[i] == "{"."""
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return j + 1
    return len(s)


def _run_end(s: str, i: int) -> int:
    """The end of the math run starting at i: a command or a name, then its groups,
    sub/superscripts, and further runs separated by single spaces."""
    m = _START.match(s, i)
    j = m.end()
    while j < len(s):
        if s[j] == "{":
            j = _group_end(s, j)
        elif s[j] in "_^" and j + 1 < len(s):
            j = _group_end(s, j + 1) if s[j + 1] == "{" else j + 2
        elif s[j] == " " and _START.match(s, j + 1):
            j = _START.match(s, j + 1).end()
        else:
            break
    return j


def inline_math(text: str) -> str:
    """Prose with LaTeX fragments (`\\frac{\\partial L}{\\partial f} \\mathbf{1}_{k}`, `W_{1}`)
    put between `$`, so Markdown renders them as math; text that has `$` already is kept."""
    if "$" in text:
        return text
    out, i = [], 0
    while i < len(text):
        m = _START.search(text, i)
        if m is None:
            break
        j = _run_end(text, m.start())
        out.append(text[i:m.start()] + "$" + text[m.start():j] + "$")
        i = j
    out.append(text[i:])
    return "".join(out)
