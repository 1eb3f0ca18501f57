"""Shape inference for LaTeX input with undeclared names: the LaTeX parse tree is read
with the ASCII rules (juxtaposition is the product, `x^\\top` a row), over `infer.Shapes`.

Only the common notation is covered; anything else returns None and the parser's own
"unknown symbol: declare its shape" error stands.
"""

from __future__ import annotations

from ..errors import SymgradError
from ..latex_in.build import A
from ..latex_in.declare import Declarations
from ..latex_in.parser import statements
from .algebra import FUNCTIONS, Ascii
from .infer import Shapes

_SUM = {"PLUS": "add", "OPLUS": "add", "MINUS": "sub", "OMINUS": "sub"}


class _GiveUp(Exception):
    pass


def infer_latex(text: str, decls: Declarations):
    """(shapes by name, notes) for the undeclared names of `text`, or None."""
    shapes = Shapes(decls)
    alg = Ascii(shapes)
    try:
        stmts = [s for s in statements(text) if s.kind != "decl"]
        if len(stmts) != 1:
            return None
        _walk(stmts[0].ast, alg, decls)
    except (_GiveUp, SymgradError, RecursionError):
        return None
    if not shapes.guesses:
        return None
    return shapes.assumptions(set(decls.sizes) | set(shapes.guesses))


def _walk(a: A, alg: Ascii, decls: Declarations):
    k, kids = a.kind, a.kids
    if k in ("group", "paren"):
        return _walk(kids[0], alg, decls)
    if k == "num":
        return alg.num(0)
    if k == "name":
        base, sub, _ = kids
        if sub is None and base in decls.sizes:
            return alg.num(0)
        if base == "I" and sub is None:
            raise _GiveUp
        return alg.var(base.lstrip("\\") + ("_" + sub.replace(" ", "") if sub else ""))
    if k == "neg":
        return alg.neg(_walk(kids[0], alg, decls))
    if k in ("sum", "had"):
        acc = _walk(kids[0], alg, decls)
        for op, term in kids[1]:
            name = _SUM.get(op.type) or ("mul" if op.type == "ODOT" else "div")
            acc = alg.binary(name, acc, _walk(term, alg, decls))
        return acc
    if k == "prod":
        factors = [_walk(f, alg, decls) for f in kids[0]]
        acc = factors[0]
        for f in factors[1:]:
            acc = alg.binary("matmul", acc, f)
        return acc
    if k == "post":
        acc = _walk(kids[0], alg, decls)
        for p in kids[1]:
            if p.kind == "T":
                acc = alg.transpose(acc)
            elif p.kind in ("inv", "invT"):
                acc = alg.call("inv", [acc], {})
                acc = alg.transpose(acc) if p.kind == "invT" else acc
            elif p.kind in ("pow", "hpow"):
                acc = alg.binary("xor" if p.kind == "pow" else "pow", acc,
                                 _walk(p.kids[0], alg, decls))
            else:
                raise _GiveUp
        return acc
    if k == "frac":
        return alg.binary("div", _walk(kids[0], alg, decls), _walk(kids[1], alg, decls))
    if k in ("norm", "sqrt"):
        return alg.call(k, [_walk(kids[0], alg, decls)], {})
    if k == "call" and kids[1] is None and kids[0] in FUNCTIONS:
        return alg.call(kids[0], [_walk(kids[2], alg, decls)], {})
    raise _GiveUp
