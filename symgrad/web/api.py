"""The JSON API's work, free of any web framework: a request dict in, a response dict out.

These functions run in the worker processes (pool.py); every bad input raises a symgrad
error, which `error_body` turns into the JSON the page shows beside the input.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import symgrad as sg

from ..check import find_variable, fmt_dims
from ..codegen import BACKENDS
from ..errors import SymgradError
from ..node import Node, topo
from ..numeric import variables
from ..ops import core
from ..syntax import SYNTAXES, Parsed, read_input

ELEMENTWISE_BINARY = {"add", "sub", "mul", "div", "pow"}


class RequestError(SymgradError):
    """A JSON request without the fields the API needs, or with values of the wrong type."""


# ---- the request ------------------------------------------------------------------------------
def _text(req: Mapping, key: str, required: bool = True) -> str | None:
    v = req.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise RequestError(f'"{key}" must be a non-empty string')
    return v


def _shapes(req: Mapping):
    """"shapes": {"W": ["n", "m"], "b": ["n", 1], "s": []} or "W: n×m, b: n×1" or null."""
    s = req.get("shapes")
    if s is None or isinstance(s, str):
        return s or None
    if not isinstance(s, dict):
        raise RequestError('"shapes" must be an object {"W": ["n", "m"]} or a string')
    out = {}
    for name, dims in s.items():
        if isinstance(dims, str):
            out[name] = dims
        elif isinstance(dims, list) and all(isinstance(d, (str, int)) and not isinstance(d, bool)
                                            for d in dims):
            out[name] = tuple(dims)
        else:
            raise RequestError(f'the shape of "{name}" must be a list of sizes like ["n", 1]')
    return out


def _flag(req: Mapping, key: str) -> bool:
    v = req.get(key, False)
    if not isinstance(v, bool):
        raise RequestError(f'"{key}" must be true or false')
    return v


def read(req: Mapping) -> Parsed:
    syntax = req.get("syntax", "auto") or "auto"
    if syntax not in SYNTAXES:
        raise RequestError(f'"syntax" must be one of {", ".join(SYNTAXES)}')
    return read_input(_text(req, "expression"), _shapes(req), syntax)


def wrt_of(req: Mapping, p: Parsed) -> list[Node]:
    """The variables named by "wrt" (a name or a list), or every variable of the objective."""
    w = req.get("wrt")
    if w is None or w == [] or w == "":
        xs = [v for v in variables(p.expr) if core.is_user_variable(v)]
        if not xs:
            raise SymgradError("the expression has no variables to differentiate by")
        return xs
    names = [w] if isinstance(w, str) else w
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RequestError('"wrt" must be a name or a list of names')
    return [find_variable(n, p.expr, p.decls) for n in names]


# ---- derive -----------------------------------------------------------------------------------
def derive(req: Mapping) -> dict:
    """POST /api/derive: gradients, explicit form, and on request steps, code, J and H."""
    p = read(req)
    y = p.expr
    xs = wrt_of(req, p)
    grads = sg.grad(y, xs)
    loss = p.label if (y.ndim == 0 and p.label) else "L"
    out: dict = {
        "syntax": p.syntax, "expression": sg.latex(y, mark_broadcasts=True),
        "shape": [str(s) for s in y.shape], "assumptions": p.assumptions,
        "shapes": {v.params.name: [str(s) for s in v.shape] for v in variables(y)
                   if core.is_user_variable(v)},
        "explicit": sg.latex(sg.explicit(y)), "broadcasts": broadcasts(y),
        "results": {x.params.name: sg.latex(g, inline=True) for x, g in zip(xs, grads)},
        "lhs": {x.params.name: rf"\frac{{\partial {loss}}}{{\partial {sg.latex(x)}}}"
                for x in xs},
        "text": {x.params.name: f"∂{loss}/∂{x} = {sg.unicode(g, inline=True)}"
                 for x, g in zip(xs, grads)},
        "derivation": None, "markdown": None, "tex": None, "code": None,
    }
    # The results with their shared parts named once (H = tanh(Z), ...); null when none is.
    shown = sg.show(dict(zip(xs, grads)), loss=loss)
    out["display"] = shown.latex() if len(shown.rows) > len(xs) else None
    if _flag(req, "steps"):
        d = sg.derive(y, xs)
        out.update(derivation=d.latex(), markdown=d.markdown(), tex=d.latex(document=True))
    code = req.get("code")
    if code is not None:
        if code not in BACKENDS:
            raise RequestError(f'"code" must be null or one of {", ".join(BACKENDS)}')
        args = [v for v in variables([y, *grads]) if v.params.kind != core.Kind.SYMBOL]
        out["code"] = sg.codegen(list(grads), args, backend=code, name="gradients",
                                 names=[f"grad_{_ident(x)}" for x in xs]).strip() + "\n"
    if _flag(req, "jacobian"):
        out["jacobian"] = {x.params.name: _attempt(lambda x=x: sg.jacobian(y, x)) for x in xs}
    if _flag(req, "hessian"):
        out["hessian"] = {x.params.name: _attempt(lambda x=x: sg.hessian(y, x)) if y.ndim == 0
                          else {"error": "the Hessian needs a scalar objective; this one is "
                                + fmt_dims(y.shape)} for x in xs}
    return out


def _ident(x: Node) -> str:
    s = "".join(c if c.isalnum() else "_" for c in x.params.name)
    return s if s.isidentifier() else "x_" + s


def _attempt(make) -> dict:
    try:
        return {"latex": sg.latex(make(), inline=True)}
    except SymgradError as exc:
        return {"error": str(exc)}


def broadcasts(y: Node) -> list[dict]:
    """Each implicit broadcast in y (an operand smaller than its elementwise result), as the
    product with ones and as the block matrix a paper draws: [b b ⋯ b]."""
    out, seen = [], set()
    for n in topo(y):
        if n.op.name not in ELEMENTWISE_BINARY or n.ndim != 2:
            continue
        rows, cols = n.shape
        for a in n.args:
            if a.ndim == 0 or a.shape == n.shape or a in seen:
                continue
            seen.add(a)
            name = sg.latex(a)
            product = sg.latex(sg.explicit(sg.broadcast_to(a, n.shape)))
            if a.shape in ((rows, 1), (rows,)) and cols != 1:
                block = (rf"\underbrace{{\begin{{bmatrix}} {name} & {name} & \cdots & {name} "
                         rf"\end{{bmatrix}}}}_{{{sg.latex(cols)}\ \text{{columns}}}}")
                what = f"{a} ({fmt_dims(a.shape)}) repeated across the {cols} columns"
            elif a.shape in ((1, cols), (cols,)) and rows != 1:
                row = name + (r"^{\top}" if a.ndim == 1 else "")
                block = (rf"\left.\begin{{bmatrix}} {row} \\ {row} \\ \vdots \\ {row} "
                         rf"\end{{bmatrix}}\right\}}\ {sg.latex(rows)}\ \text{{rows}}")
                what = f"{a} ({fmt_dims(a.shape)}) repeated down the {rows} rows"
            else:
                continue
            out.append({"latex": f"{product} = {block}", "text": what})
    return out


# ---- check ------------------------------------------------------------------------------------
def check(req: Mapping) -> dict:
    """POST /api/check: is the claimed gradient (LaTeX) right? A compact verdict."""
    p = read(req)
    claim = _text(req, "claim")
    w = req.get("wrt")
    if isinstance(w, list):
        if len(w) > 1:
            raise RequestError('check takes one variable in "wrt"')
        w = w[0] if w else None
    if w is not None and not isinstance(w, str):
        raise RequestError('"wrt" must be a name')
    v = sg.check(claim, p.expr, w, p.decls)
    ce = v.counterexample
    return {"ok": v.ok, "summary": v.summary, "diagnosis": v.diagnosis,
            "diagnoses": v.diagnoses, "claim": sg.latex(v.claim),
            "gradient": sg.latex(v.gradient), "wrt": v.wrt.params.name,
            "assumptions": p.assumptions, "syntax": p.syntax,
            "counterexample": None if ce is None else {
                "sizes": ce.sizes,
                "difference": ce.difference if math.isfinite(ce.difference) else None,
                "where": list(ce.where) if ce.where is not None else None, "text": str(ce)}}


# ---- documents ------------------------------------------------------------------------------
def pdf(req: Mapping) -> bytes:
    """The derivation as a PDF (pdflatex), for the page's download button."""
    p = read(req)
    d = sg.derive(p.expr, wrt_of(req, p))
    with tempfile.TemporaryDirectory(prefix="symgrad-web-") as tmp:
        return d.save(Path(tmp) / "derivation.pdf").read_bytes()


def has_pdflatex() -> bool:
    return shutil.which("pdflatex") is not None


def error_body(exc: BaseException) -> dict:
    """{"error": {"type", "message", "column", "caret"}}: the first line of the message, and
    the input line with the caret when the error has a position."""
    text = str(exc)
    message, _, caret = text.partition("\n")
    return {"error": {"type": type(exc).__name__, "message": message,
                      "column": getattr(exc, "column", None), "caret": caret or None,
                      "names": list(getattr(exc, "names", ()) or ()) or None}}

