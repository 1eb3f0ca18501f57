"""What the command line prints: one result record per variable, rendered as LaTeX, Unicode
text, Markdown (with math delimiters) or compact JSON, and check verdicts in the same formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .check import Verdict
from .display import Display
from .names import latex_name, unicode_name
from .node import Node, topo
from .numeric import variables
from .ops import core
from .printing import LATEX, latex, unicode
from .shared import name_shared
from .slices import SLICE_NAME

LAYOUTS = {
    "gradient": "denominator (each gradient has the shape of its variable)",
    "jacobian": "numerator (the shape of the function, then the shape of the variable; "
                "matrices enter as vec, columns stacked)",
    "hessian": "the symmetric H of d²L = dxᵀ H dx (a matrix variable enters as vec)",
}


@dataclass
class Row:
    """One result: `lhs = rhs`, with the left side spelled in LaTeX and in Unicode."""

    wrt: Node
    rhs: Node
    lhs_latex: str
    lhs_text: str


@dataclass
class Derived:
    """Everything `symgrad derive` found, before it is printed."""

    objective: Node
    kind: str  # gradient, jacobian, hessian
    rows: list[Row]
    steps: object | None = None  # a Derivation
    code: str | None = None
    definitions: list[Node] = field(default_factory=list)  # named intermediates used


def lhs(kind: str, of: str, x: Node, vec_y: bool = False, vec_x: bool = False) -> tuple:
    """The left side of a result in LaTeX and Unicode: ∂L/∂x, ∂f/∂x, ∂²L/∂x∂xᵀ."""
    xl, xt = latex(x), unicode(x)
    if vec_x:
        xl, xt = rf"\operatorname{{vec}}({xl})", f"vec({xt})"
    fl, ft = latex_name(of), unicode_name(of)
    if vec_y:
        fl, ft = rf"\operatorname{{vec}}({fl})", f"vec({ft})"
    if kind == "hessian":
        if x.ndim == 0:
            return rf"\frac{{\partial^2 {fl}}}{{\partial {xl}^2}}", f"∂²{ft}/∂{xt}²"
        return (rf"\frac{{\partial^2 {fl}}}{{\partial {xl} \, \partial {xl}^{{\top}}}}",
                f"∂²{ft}/∂{xt}∂{xt}ᵀ")
    return rf"\frac{{\partial {fl}}}{{\partial {xl}}}", f"∂{ft}/∂{xt}"


def named_intermediates(results: list[Node], objective: Node) -> list[Node]:
    """The named subexpressions (A = softmax(Q Kᵀ)) the results refer to, definitions first."""
    return [n for n in topo(results) if (n.op is core.NAME or n.op is SLICE_NAME)
            and n is not objective]  # and the per-slice parts (G_{i} = ...: symgrad/slices.py)


def name_parts(d: Derived) -> Derived:
    """The results with their shared parts named (H = tanh(Z), as `sg.latex` prints them),
    and the definitions they use, the user's and those, inner ones first."""
    defs, rhs = name_shared([r.rhs for r in d.rows], LATEX)
    if not defs:
        return d
    rows = [replace(r, rhs=e) for r, e in zip(d.rows, rhs)]
    return replace(d, rows=rows, definitions=named_intermediates(rhs, d.objective))


def render_derived(d: Derived, fmt: str) -> str:
    d = name_parts(d)
    if fmt == "json":
        return compact_json(derived_dict(d))
    if d.code is not None and fmt != "markdown":
        return d.code  # on its own, ready to be redirected to a file
    body = _steps(d.steps, fmt) if d.steps is not None else _rows(d, fmt)
    if d.code is not None:
        body += f"```python\n{d.code.rstrip()}\n```\n"
    return body


def _steps(s, fmt: str) -> str:
    if fmt == "text":
        return str(s) + "\n"
    if fmt == "markdown":
        md = getattr(s, "markdown", None)
        return (md() if md else f"$$\n{s.latex()}\n$$") + "\n"
    return s.latex() + "\n"


def _rows(d: Derived, fmt: str) -> str:
    if d.definitions and fmt != "text":  # the display of sg.latex: definitions, then results
        shown = Display([(n, n.args[0]) for n in d.definitions]
                        + [(r.lhs_latex, r.rhs) for r in d.rows], LATEX).latex()
        return f"$$\n{shown}\n$$\n" if fmt == "markdown" else shown + "\n"
    out = []
    for r in d.rows:
        if fmt == "text":
            out.append(f"{r.lhs_text} = {unicode(r.rhs)}\n")
        elif fmt == "markdown":
            out.append(f"$$\n{r.lhs_latex} = {latex(r.rhs)}\n$$\n\n")
        else:
            out.append(f"{r.lhs_latex} = {latex(r.rhs)}\n")
    for n in d.definitions:
        out.append(f"where {unicode_name(n.params[0])} = {unicode(n.args[0])}\n")
    return "".join(out)


def derived_dict(d: Derived) -> dict:
    """The JSON of `derive`: the same keys whatever the flags (null where not asked)."""
    y = core.unname(d.objective)
    return {
        "objective": latex(y), "shape": [str(s) for s in y.shape], "kind": d.kind,
        "layout": LAYOUTS[d.kind],
        "gradients": [{"wrt": r.wrt.params.name, "shape": [str(s) for s in r.rhs.shape],
                       "lhs_latex": r.lhs_latex, "latex": latex(r.rhs),
                       "lhs_text": r.lhs_text, "text": unicode(r.rhs)} for r in d.rows],
        "definitions": [{"name": n.params[0], "latex": latex(n.args[0]),
                         "text": unicode(n.args[0])} for n in d.definitions],
        "steps": None if d.steps is None else {"latex": d.steps.latex(), "text": str(d.steps)},
        "code": d.code,
    }


def compact_json(obj: dict) -> str:
    """One top-level key a line, each value on its line in compact JSON."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(', ', ': '))}"
             for k, v in obj.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


# ---- check verdicts ---------------------------------------------------------------------------
def _fragments(v: Verdict, extra: list[Node]) -> dict[str, Node]:
    """The LaTeX spellings the verdict's sentences may contain, each with its node."""
    nodes = [v.gradient, v.claim, v.wrt, *variables([v.gradient, v.claim, *extra])]
    return {latex(n): n for n in nodes}


def sentence(text: str, v: Verdict, fmt: str, extra: list[Node] = ()) -> str:
    """A verdict sentence with its inline LaTeX as Unicode (text) or in $…$ (markdown)."""
    frags = {k: n for k, n in _fragments(v, list(extra)).items()
             if fmt == "text" or k not in ("a", "I")}  # English words stay words
    if not frags:
        return text
    pat = re.compile(r"(?<![\w\\])(" + "|".join(
        re.escape(k) for k in sorted(frags, key=len, reverse=True)) + r")(?![\w{])")
    if fmt == "text":
        return pat.sub(lambda m: unicode(frags[m.group(1)]), text)
    return pat.sub(lambda m: f"${m.group(1)}$", text)


def render_verdict(v: Verdict, fmt: str, extra: list[Node] = ()) -> str:
    if fmt == "json":
        return compact_json(verdict_dict(v))
    if fmt == "markdown":
        head, _, rest = v.summary.partition(": ")
        out = [f"**{head}**: {sentence(rest, v, fmt, extra)}\n"]
        out += [f"- {sentence(d, v, fmt, extra)}\n" for d in v.diagnoses[1:]]
        if v.counterexample is not None:
            out.append(f"\n```\n{v.counterexample}\n```\n")
        return "".join(out)
    if fmt == "text":
        lines = [sentence(v.summary, v, fmt, extra)]
        lines += [f"  - {sentence(d, v, fmt, extra)}" for d in v.diagnoses[1:]]
        if v.counterexample is not None:
            lines.append(str(v.counterexample))
        return "\n".join(lines) + "\n"
    return str(v) + "\n"


def _rounded(a) -> object:
    a = np.asarray(a, dtype=float)
    return np.round(a, 4).tolist()


def verdict_dict(v: Verdict) -> dict:
    """The JSON of `check`: a verdict in a few lines, the counterexample's arrays rounded."""
    ce = v.counterexample
    cex = None if ce is None else {
        "sizes": ce.sizes, "inputs": {k: _rounded(a) for k, a in ce.inputs.items()},
        "claimed": _rounded(ce.claimed), "true": _rounded(ce.true),
        "difference": float(ce.difference) if np.isfinite(ce.difference) else None,
        "where": list(ce.where) if ce.where is not None else None}
    return {"ok": v.ok, "summary": v.summary, "diagnosis": v.diagnosis,
            "diagnoses": v.diagnoses, "claim": latex(v.claim), "gradient": latex(v.gradient),
            "wrt": v.wrt.params.name, "samples": v.samples, "counterexample": cex}
