"""Rich displays for Jupyter: several results at once (`show`), generated code (`Source`), and
the helper that puts LaTeX inside prose between `$` for Markdown displays."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .derivation.build import _is_leafish
from .errors import SymgradError
from .names import check_name
from .node import Node, substitute, topo
from .ops import core
from .printing import LATEX, UNICODE, Printer, Style
from .printing import latex as latex_of

__all__ = ["Source", "Display", "inline_math", "show"]


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
        rows = self._lines(Printer(UNICODE))
        width = max((len(lhs) for lhs, _ in rows), default=0)
        return "\n".join(f"{lhs:>{width}} = {rhs}" if lhs else " " * (width + 3) * bool(width)
                         + rhs for lhs, rhs in rows)

    def __repr__(self) -> str:
        return f"<symgrad display of {len(self.rows)} results>\n{self}"


def show(results, name_shared: bool = True, **options) -> Display:
    """Display results together: an expression, a list of them, or a dict mapping variables
    to their gradients (rows `∂L/∂W = ...`) or LaTeX labels to expressions. A subexpression
    used more than once is named (Z₁, Z₂, ...) on a row of its own, unless `name_shared` is
    False. Keywords are `latex()` options (`loss=r"\\ell"`, `upstream="bar"`, ...)."""
    try:
        style = replace(LATEX, **options)
    except TypeError as exc:
        raise SymgradError(f"show(): {exc}; the options are the fields of sg.Style") from None
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
        defs, exprs = _name_shared([e for _, e in rows])
        rows = [(d, d.args[0]) for d in defs] + [(lb, e) for (lb, _), e in zip(rows, exprs)]
    return Display(rows, style)


def _name_shared(exprs: list[Node]) -> tuple[list[Node], list[Node]]:
    """Name each non-trivial array subexpression used more than once, inner ones first:
    (the name nodes, the expressions written with them)."""
    order = topo(exprs)
    uses: Counter = Counter(a for n in order for a in n.args)
    shared = [n for n in order if uses[n] > 1 and n.ndim and n.size > 3
              and n.op is not core.NAME and not _is_leafish(n)]
    # Names compare in their canonical form (Z1, Z_1 and Z_{1} are one name: symgrad.names).
    taken = {check_name(v.params[0]) for v in order
             if core.is_user_variable(v) or v.op is core.NAME}
    labels = (f"Z_{i}" for i in itertools.count(1))
    mapping: dict[Node, Node] = {}
    for n in shared:
        label = next(lb for lb in labels if lb not in taken)
        mapping[n] = core.name(label, substitute(n, mapping) if mapping else n)
    if not mapping:
        return [], exprs
    return list(mapping.values()), substitute(exprs, mapping)


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
