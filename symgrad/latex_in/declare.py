"""Shape declarations: `{"W": ("n", "m")}`, `"W: n×m, b: n×1"`, variables, or `W=n,m`.

Everything is turned into symgrad variables keyed by their printed LaTeX name, so `W1`,
`W_1` and `W_{1}` all declare the variable that prints as `W_{1}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy

from ..errors import AmbiguousInputError, SizeError, SymgradError
from ..names import name_key
from ..node import Node, topo
from ..ops import core
from ..shapes import as_size

ShapesArg = Mapping | str | Iterable[Node] | None


@functools.lru_cache(maxsize=4096)
def key_of(name: str) -> str:
    """The canonical key of a variable name (symgrad.names.name_key)."""
    return name_key(name)


def size_symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, positive=True, integer=True)


_SIZE_TOKEN = re.compile(r"\s*(?:(\d+)|(\\?[A-Za-z][A-Za-z0-9_]*)|(\*|\\cdot|·)|(\+)|(\S))")


def parse_size(text: str, known: Mapping[str, sympy.Symbol] | None = None):
    """A size such as `n`, `3`, `2n`, `n + 1`, `k n`: positive-integer SymPy expression."""
    known = known or {}
    text = text.strip()
    if not text:
        raise SizeError("an empty size")
    terms: list = []
    factors: list = []
    pos = 0
    while pos < len(text):
        m = _SIZE_TOKEN.match(text, pos)
        if m is None or not m.group(0).strip():
            break
        pos = m.end()
        num, ident, times, plus, bad = m.groups()
        if bad is not None:
            raise SizeError(f"cannot read the size {text!r} (unexpected {bad!r})")
        if num is not None:
            factors.append(sympy.Integer(int(num)) if len(num) < 12 else None)
            if factors[-1] is None:
                raise SizeError(f"size {num} is too large")
        elif ident is not None:
            factors.extend(_size_names(ident.lstrip("\\"), known))
        elif plus is not None:
            if not factors:
                raise SizeError(f"cannot read the size {text!r}")
            terms.append(sympy.Mul(*factors))
            factors = []
    if not factors:
        raise SizeError(f"cannot read the size {text!r}")
    terms.append(sympy.Mul(*factors))
    return as_size(sympy.Add(*terms))


def _size_names(ident: str, known: Mapping[str, sympy.Symbol]) -> list:
    if ident in known or len(ident) == 1 or not ident.isalpha():
        return [known.get(ident) or size_symbol(ident)]
    if all(c in known for c in ident):  # "kn" written for k n
        return [known[c] for c in ident]
    return [size_symbol(ident)]


DOTS = ("\\cdot", "·", "*")  # between two sizes: a product, or the × of a shape?
_AXES = re.compile(r"×|\\times|,|\s+x\s+")
# `nxn`, `3x4`, `2nxk`: an x between sizes written without spaces (`nx` alone is one size)
_COMPACT = re.compile(r"(?:\d+[A-Za-z]?|[A-Za-z])(?:x(?:\d+[A-Za-z]?|[A-Za-z]))+")
_DOT = re.compile(r"\\cdot(?![A-Za-z])|·|\*")


def ambiguous_product(sizes: list[str], dot: str) -> str:
    a, b = sizes[0].strip(), sizes[1].strip() if len(sizes) > 1 else "..."
    return (f"'{a} {dot} {b}' has two readings: a matrix of shape {a}×{b}, or one axis of length "
            f"{a}·{b}; write {a} \\times {b} (or {a}×{b}, {a} x {b}) for the matrix, "
            f"{a} {b} for one axis")


def parse_shape(spec, known: Mapping[str, sympy.Symbol] | None = None) -> tuple:
    """A shape from a tuple of sizes or a string: `n×m`, `n\\times m`, `n x m`, `nxm`,
    `(n, m)`, `n,m`, `n`, `()`. `n*m` or `n \\cdot m` alone is refused: it may mean either."""
    if isinstance(spec, str):
        s = spec.strip()
        s = re.sub(r"^(?:\\mathbb\s*\{?\s*R\s*\}?|ℝ|R)\s*\^\s*", "", s)
        s = s.strip()
        if s.startswith("{") and s.endswith("}"):
            s = s[1:-1]
        if s.startswith("(") and s.endswith(")"):
            s = s[1:-1]
        if s.strip() in ("", "scalar", "\\mathbb{R}", "R", "ℝ"):
            return ()
        if _COMPACT.fullmatch(s.strip()):
            parts = s.strip().split("x")
        else:
            parts = _AXES.split(s)
        dot = _DOT.search(s)
        if len(parts) == 1 and dot:
            raise AmbiguousInputError(ambiguous_product(_DOT.split(s), dot.group()))
        return tuple(parse_size(p, known) for p in parts)
    if isinstance(spec, (int, sympy.Expr)) and not isinstance(spec, bool):
        return (as_size(spec),)
    try:
        items = tuple(spec)
    except TypeError:
        raise SizeError(f"cannot read {spec!r} as a shape") from None
    return tuple(parse_size(s, known) if isinstance(s, str) else as_size(s) for s in items)


# Declared structure after a shape: "S: n×n symmetric", "y: n pm1" (entries ±1), "Y: N×c onehot"
# or "simplex" (rows that sum to one).
_STRUCTURE = re.compile(r"(?:[\s,]*\b(?:symmetric|" + "|".join(core.LABELS) + r"))+\s*$")

_ENTRY_HEAD = re.compile(
    r"(?:^|[,;\n]|\\quad)\s*(\\?[A-Za-z][A-Za-z0-9_{}\\]*)\s*(?::|=|\\in|∈)\s*")


def parse_shapes_text(text: str) -> dict[str, str]:
    """`"W: n×m, X: m×k, b: n×1"` (also `=` or `\\in`, `;` or newlines between) -> specs."""
    heads = list(_ENTRY_HEAD.finditer(text))
    if not heads and text.strip():
        raise SymgradError(
            f"cannot read the shape declarations {text!r}; write them like 'W: n×m, b: n×1'")
    out: dict[str, str] = {}
    for h, nxt in zip(heads, heads[1:] + [None]):
        spec = text[h.end(): nxt.start() if nxt else len(text)].strip().rstrip(",;")
        out[h.group(1)] = spec
    return out


@dataclass
class Declarations:
    """Variables (and named definitions) keyed by LaTeX name, and the symbolic sizes seen."""

    vars: dict[str, Node] = field(default_factory=dict)
    defs: dict[str, Node] = field(default_factory=dict)
    sizes: dict[str, sympy.Symbol] = field(default_factory=dict)
    upstreams: dict[str, Node] = field(default_factory=dict)  # keyed by the name of f in dL/df
    rows: set[str] = field(default_factory=set)  # definitions of 1-D values written as rows

    def add_sizes(self, shape) -> None:
        for s in shape:
            if isinstance(s, sympy.Expr):
                for sym in s.free_symbols:
                    self.sizes.setdefault(sym.name, sym)

    def declare(self, name: str, shape, kind: str = "var") -> Node:
        name = _clean_name(name)
        structure: set[str] = set()
        if isinstance(shape, str) and kind == "var":
            m = _STRUCTURE.search(shape)
            if m:
                shape, structure = shape[:m.start()], set(m.group(0).replace(",", " ").split())
        shp = parse_shape(shape, self.sizes)
        self.add_sizes(shp)
        labels = next((k for k in core.LABELS if k in structure), None)
        if "symmetric" in structure:
            if len(shp) != 2:
                raise SizeError(f"a symmetric {name} must be a square matrix: write "
                                f"'{name}: n×n symmetric'")
            v = core.matrix(name, *shp, symmetric=True, labels=labels)
        else:
            v = core.variable(name, *shp, kind=core.LABELS[labels] if labels else kind)
        k = key_of(name[4:] if kind == "upstream" else name)
        table = self.vars if kind == "var" else self.upstreams
        old = table.get(k)
        if old is not None and old is not v:
            raise SymgradError(
                f"{name} is declared twice, with shapes {old.shape} and {v.shape}")
        table[k] = v
        return v

    def add_node(self, name: str, node: Node) -> None:
        if node.op is core.VAR:
            vname, shp, kind = node.params
            if kind == "upstream":
                self.upstreams[key_of(vname[4:])] = node
            else:
                self.vars[key_of(vname)] = node
            self.add_sizes(shp)
        else:
            self.defs[key_of(_clean_name(name))] = node
            for n in topo(node):
                self.add_sizes(n.shape)


def _clean_name(name: str) -> str:
    """`\\theta` -> theta, `W_{1}` -> W_1, `b_{\\text{out}}` -> b_out."""
    if not isinstance(name, str) or not name.strip():
        raise SymgradError(f"a variable name must be a non-empty string, got {name!r}")
    s = name.strip()
    s = re.sub(r"\\(?:mathbf|bm|boldsymbol|text|mathrm|mathit)\s*\{([^{}]*)\}", r"\1", s)
    s = s.replace("{", "").replace("}", "").lstrip("\\")
    s = re.sub(r"_\\", "_", s)
    return s


def declarations(shapes: ShapesArg) -> Declarations:
    """Read the `shapes` argument of parse() and check() in any of its forms."""
    if isinstance(shapes, Declarations):
        return shapes
    d = Declarations()
    if shapes is None:
        return d
    if isinstance(shapes, str):
        shapes = parse_shapes_text(shapes)
    if isinstance(shapes, Node):
        shapes = [shapes]
    if isinstance(shapes, Mapping):
        items = list(shapes.items())
    else:
        try:
            items = [(None, v) for v in shapes]
        except TypeError:
            raise SymgradError(
                f"shapes must be a dict, a string or a list of variables, not {shapes!r}"
            ) from None
    # Nodes first so that the sizes they use are known when strings are read.
    for name, spec in sorted(items, key=lambda kv: not isinstance(kv[1], Node)):
        if isinstance(spec, Node):
            d.add_node(name if name is not None else spec.params[0], spec)
        elif name is None:
            raise SymgradError(f"a list of shapes must hold variables, not {spec!r}")
        elif not isinstance(name, str):
            raise SymgradError(f"a shape is declared for {name!r}; give its name as a string")
        elif isinstance(spec, str) and _CONST.match(spec.strip()):
            d.add_node(name, _constant(spec.strip(), d))
        else:
            d.declare(name, spec)
    return d


_CONST = re.compile(r"(ones|zeros|eye|\\mathbf\s*\{\s*([01])\s*\}|I)"
                    r"\s*(?:\(|_)\s*\{?([^(){}]*)\}?\)?$")


def _constant(spec: str, d: Declarations) -> Node:
    """`ones(N)`, `\\mathbf{1}_N`, `zeros(n)`, `eye(n)`, `I_n`: a name for a constant."""
    m = _CONST.match(spec)
    kind = {"1": "ones", "0": "zeros", "I": "eye"}.get(m.group(2) or m.group(1), m.group(1))
    size = parse_size(m.group(3), d.sizes)
    d.add_sizes((size,))
    return {"ones": core.ones, "zeros": core.zeros, "eye": core.eye}[kind](size)
