"""From the parse tree to symgrad nodes: names resolved against the declared shapes,
juxtaposition decided by shape (matmul between non-scalars, scalar product otherwise).

Paper notation has no 1-D/2-D distinction, NumPy does; the conventions chosen here make
`parse(latex(e))` give back `e` (after `simplify` where the printer prints a canonical form):

- `\\mathbf{1}_n` is the 1-D ones vector `(n,)`, so `G \\mathbf{1}_k` is the row sums `(n,)`
  and `\\mathbf{1}^\\top x` a scalar. Next to a row it is the column `(n, 1)` (`\\mathbf{1}_n
  c^\\top` broadcasts `c`); transposed before a matrix it is the row `(1, n)`.
- `x^\\top` of a 1-D `x` is a row: `x^\\top y` is the scalar `x @ y`, `x^\\top A` is `x @ A`,
  `x y^\\top` the outer product; alone it is the `(1, n)` matrix.
- In `+ - \\odot \\oslash` and `^{\\circ p}`, a 1-D operand next to an `(n, 1)` column or a
  1×1 is a column (NumPy would broadcast them to `(n, n)` or `(1, n)`, which no paper means).
- A `(1,)` or 1×1 factor is a number: where it cannot multiply, it scales. A column where a
  function needs a vector is that vector; a vector where it needs a matrix is its column.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..errors import (
    AmbiguousInputError,
    LatexError,
    LatexSyntaxError,
    ShapeError,
    SizeError,
    SymgradError,
    UnknownSymbolError,
    warn,
)
from ..node import Node, describe
from ..ops import api, core, linalg
from ..shapes import fmt_shape
from .declare import Declarations, ambiguous_product, key_of, parse_shape, parse_size
from .functions import axis_from_sub, function
from .indices import entry_outside, read
from .postfix import Postfix
from .products import Products
from .slice_rows import slice_definition
from .tokens import _WORD, caret_message
from .tree import A, LatexAssumptionWarning, Result, Statement, V, _Unknown

_TIMES = re.compile(r"×|\\times(?![A-Za-z])")
MAX_FOLDS = 64  # constant folds per input (see Builder.foldable)


def conform(expr: Node, shape) -> Node:
    """`expr` with the unit axes of `shape` where the notation could not tell: `G 1_k` is
    `(n,)` when parsed, the row sums kept as a column `(n, 1)` when `shape` says so.

    The change is made where the ambiguity arose (a product with a ones vector), through
    elementwise operations, so that the result reads as the printer wrote it.
    """
    shape = tuple(shape)
    if expr.shape == shape:
        return expr
    if [s for s in expr.shape if s != 1] != [s for s in shape if s != 1]:
        raise ShapeError(f"{describe(expr)} cannot take the shape {fmt_shape(shape)}")
    op = expr.op
    if op is linalg.MATMUL:
        a, b = expr.args
        if b.op is core.ONES and b.ndim == 1 and len(shape) == 2 and shape[1] == 1 \
                and a.ndim == 2 and a.shape[0] == shape[0]:
            return linalg.matmul(a, core.ones(b.shape[0], 1))
    elementwise = op.cases is not None and getattr(op, "sympy", None) is not None \
        and len(expr.args) == 1
    if elementwise or op.name == "neg":
        return Node(op, (conform(expr.args[0], shape),), expr.params)
    if op.name in ("add", "sub", "mul", "div", "pow") and any(a.ndim == 0 for a in expr.args) \
            and any(a.ndim for a in expr.args):
        args = tuple(a if a.ndim == 0 else conform(a, shape) for a in expr.args)
        return Node(op, args, expr.params)
    return api.reshape(expr, shape)


def _nodes(root: A):
    """The parse-tree nodes below root, but not inside upstream gradients dL/df."""
    stack = [root]
    while stack:
        a = stack.pop()
        if a.kind == "upstream":
            continue
        yield a
        for k in a.kids:
            if isinstance(k, A):
                stack.append(k)
            elif isinstance(k, list):
                for x in k:
                    if isinstance(x, A):
                        stack.append(x)
                    elif isinstance(x, tuple):
                        stack.extend(y for y in x if isinstance(y, A))


class Builder(Products, Postfix):
    """A parse tree to a symgrad expression (the products and postfix operators are in
    products.py and postfix.py)."""

    def __init__(self, text: str, decls: Declarations, upstream: dict | None = None) -> None:
        self.text = text
        self.d = decls
        self.upstream = upstream or {}  # key of f -> the upstream variable dL/df
        self.unknown: dict[str, int] = {}
        self.folds = 0

    # ---- errors --------------------------------------------------------------------------
    def col(self, pos: int) -> int:
        return pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def fail(self, cls, message: str, pos: int) -> SymgradError:
        msg = caret_message(f"{message} (column {self.col(pos)})", self.text, pos)
        if issubclass(cls, LatexError):
            return cls(msg, text=self.text, column=self.col(pos))
        exc = cls(msg)
        exc.text, exc.column = self.text, self.col(pos)
        return exc

    def warn(self, message: str, pos: int) -> None:
        warn(f"{message} (column {self.col(pos)})", LatexAssumptionWarning)

    # ---- the document ----------------------------------------------------------------------
    def document(self, stmts: list[Statement]) -> Result:
        for s in stmts:
            if s.kind == "decl":
                self.declaration(s)
        main = [s for s in stmts if s.kind != "decl"]
        if not main:
            raise self.fail(LatexSyntaxError, "no expression, only declarations", 0)
        first, defs = self.result_first(main)
        self.result_ast = first.ast  # shape_hint is the result's, not a definition's
        for s in defs:
            if s.kind != "eq" or self.plain_name(s.lhs) is None:
                raise self.fail(
                    LatexSyntaxError,
                    "several expressions; besides the result, only definitions 'M = ...' and "
                    r"declarations 'W \in \mathbb{R}^{n \times m}' may be written", s.ast.pos)
            name = self.plain_name(s.lhs)
            try:  # G_{i} = e: a per-slice definition (indices.py)
                sliced = slice_definition(self, s.lhs, s.ast)
            except _Unknown:  # an unknown symbol: reported where the row is read as usual
                sliced = None
            if sliced is not None:
                name, node = sliced
                self.d.defs[key_of(name)] = api.name(name, node)
                continue
            node = self.expression(s.ast)
            if main.index(s) < main.index(first) and node.op is not core.VAR:
                node = api.name(name, node)  # an intermediate: results refer to it by name
            self.d.defs[key_of(name)] = node
            # M = xᵀ A is a row: M is written where a row goes (1ₘ M, M y)
            (self.d.rows.add if self._row else self.d.rows.discard)(key_of(name))
        label = wrt = None
        if first.kind == "eq":
            label = self.plain_name(first.lhs)
            if label is None:
                wrt = self.derivative_label(first.lhs)
                if wrt is None:
                    raise self.fail(
                        LatexSyntaxError, "the left side of '=' must be a name (f = ...) or a "
                        r"derivative (\frac{\partial L}{\partial b} = ...)", first.lhs.pos)
        expr = self.expression(first.ast)
        row = self._row
        if label is not None:
            expr = api.name(label, expr)
        return Result(expr, label, wrt, self.d, row=row)

    def result_first(self, main: list[Statement]) -> tuple[Statement, list[Statement]]:
        """The result and the definitions in the order they can be built. The result is the
        first statement no other one refers to: `f = W X + b 1^T, 1 = ...` (definitions after
        it abbreviate) or `A = softmax(Q K^T), O = A V` (definitions before it are
        intermediates, named in the results)."""
        keys = [key_of(n) if s.kind == "eq" and (n := self.plain_name(s.lhs)) else None
                for s in main]
        refs = [{key_of(a.kids[0] + ("_" + a.kids[1].replace(" ", "") if a.kids[1] else ""))
                 for a in _nodes(s.ast) if a.kind == "name"} for s in main]
        used = [any(k is not None and k in r for j, r in enumerate(refs) if j != i)
                for i, k in enumerate(keys)]
        if not used[0]:
            return main[0], main[1:]
        free = [s for s, u in zip(main, used) if not u]
        if not free:
            raise self.fail(LatexSyntaxError, "the definitions refer to each other in a "
                            "circle; which one is the result?", main[0].ast.pos)
        pending = [i for i, s in enumerate(main) if s is not free[0]]
        order: list[Statement] = []
        while pending:  # definitions after those they use
            ready = [i for i in pending if not any(keys[j] in refs[i] for j in pending if j != i)]
            if not ready:
                raise self.fail(LatexSyntaxError, "the definitions refer to each other in a "
                                "circle", main[pending[0]].ast.pos)
            order += [main[i] for i in ready]
            pending = [i for i in pending if i not in ready]
        return free[0], order

    def expression(self, ast: A) -> Node:
        self.root_ast = ast
        try:
            v = self.value(ast)
            out = self.materialize(v)
            self._row = v.row and out.ndim == 1
            return out
        except _Unknown:
            self.collect_unknown(ast)
            names = sorted(self.unknown, key=self.unknown.get)
            pos = min(self.unknown.values())
            decl = ", ".join(f'"{n}": ("n", "m")' for n in names[:2])
            raise UnknownSymbolError(
                caret_message(
                    f"unknown symbol{'s' if len(names) > 1 else ''} {', '.join(names)} "
                    f"(column {self.col(pos)}): declare {'their' if len(names) > 1 else 'its'} "
                    f"shape{'s' if len(names) > 1 else ''}, e.g. shapes={{{decl}}}, "
                    f"--shape {names[0]}=n,m on the command line, or "
                    rf"{names[0]} \in \mathbb{{R}}^{{n \times m}} in the LaTeX", self.text, pos),
                names=tuple(names), text=self.text, column=self.col(pos)) from None
        except (ShapeError, SizeError) as exc:
            if getattr(exc, "column", None) is not None or "(column " in str(exc):
                raise
            raise type(exc)(caret_message(str(exc), self.text, self._last_pos)) from None

    _last_pos = 0
    shape_hint = None  # the result's shape, when the caller knows it: sizes [1]_{ijk}
    root_ast = None  # the expression being built
    result_ast = None  # the result's (the others are definitions)
    _row = False  # the last expression built is a 1-D vector written as a row

    # ---- declarations and names -----------------------------------------------------------
    def plain_name(self, ast: A | None) -> str | None:
        while ast is not None and ast.kind in ("group", "paren", "post") and (
                ast.kind != "post" or not ast.kids[1]):
            ast = ast.kids[0]
        if ast is not None and ast.kind == "name":
            base, sub, _ = ast.kids
            return base + ("_" + sub.replace(" ", "") if sub else "")
        if ast is not None and ast.kind == "prod" and all(
                f.kind == "name" and not f.kids[1] for f in ast.kids[0]):  # a run: "loss"
            return "".join(f.kids[0] for f in ast.kids[0])
        return None

    def derivative_label(self, ast: A) -> str | None:
        while ast.kind in ("group", "paren"):
            ast = ast.kids[0]
        if ast.kind == "upstream":
            return self.plain_name(ast.kids[1])
        return None

    def declaration(self, s: Statement) -> None:
        name = self.plain_name(s.lhs)
        if name is None:
            raise self.fail(LatexSyntaxError, r"only a name can be declared: W \in "
                            r"\mathbb{R}^{n \times m}", s.lhs.pos)
        dot = next((t for t in s.ast.kids if type(t) is not str), None)
        if dot is not None:
            sizes = [t for t in s.ast.kids if type(t) is str]
            raise self.fail(AmbiguousInputError, ambiguous_product(sizes, dot), dot.start_pos)
        try:
            shape = tuple(parse_size(t, self.d.sizes) for t in s.ast.kids)
            self.d.declare(name, shape)
        except SymgradError as exc:
            raise self.fail(type(exc) if isinstance(exc, SizeError) else LatexSyntaxError,
                            str(exc), s.lhs.pos) from None

    def lookup(self, ast: A) -> V:
        base, sub, kind = ast.kids
        pyname = base + ("_" + sub.replace(" ", "") if sub else "")
        k = key_of(pyname)
        hit = self.d.defs.get(k, self.d.vars.get(k))
        if hit is not None:
            row = k in self.d.rows and k in self.d.defs  # as x^T: alone, the (1, n) matrix
            return V(hit, ast.pos, row=row, lift=row)
        if sub is None and base in self.d.sizes:  # a size used as a number: n \frac{..}{..}
            return V(core.number(self.d.sizes[base]), ast.pos)
        if base == "I" and kind == "LETTER":
            if sub is None:
                return V(None, ast.pos, pending="eye")
            return V(core.eye(self.size(sub, ast.pos)), ast.pos)
        if base == "K" and kind == "LETTER" and sub is not None and sub.count(",") == 1:
            # K_{p,q}, the commutation matrix (Magnus & Neudecker): vec(Aᵀ) = K_{p,q} vec(A)
            p, q = (self.size(t, ast.pos) for t in sub.split(","))
            return V(api.commutation(p, q), ast.pos)
        entry = entry_outside(self, ast)
        if entry is not None:
            raise self.fail(LatexSyntaxError, entry, ast.pos)
        self.unknown.setdefault(pyname, ast.pos)
        raise _Unknown

    def shape(self, text: str, pos: int) -> tuple:
        try:
            return parse_shape(text, self.d.sizes)
        except SymgradError as exc:
            raise self.fail(type(exc) if isinstance(exc, LatexError) else SizeError, str(exc),
                            pos) from None

    def size(self, text: str, pos: int):
        try:
            return parse_size(text, self.d.sizes)
        except SizeError as exc:
            raise self.fail(SizeError, str(exc), pos) from None

    def collect_unknown(self, root: A) -> None:
        """Every unresolvable name below root (to list them all in one error)."""
        for a in _nodes(root):
            if a.kind == "name":
                try:
                    self.lookup(a)
                except _Unknown:
                    pass
                except SymgradError:
                    pass

    def sigma_product(self, a: A) -> None:
        """`\\sigma(x)` is the sigmoid unless a declared sigma makes `sigma (x)` a product too:
        then it has two readings, and the declared shapes cannot settle it."""
        sigma = self.d.defs.get(key_of("sigma"), self.d.vars.get(key_of("sigma")))
        if sigma is None:
            return
        try:
            arg = self.materialize(self.value(a.kids[2]))
            self.juxt(V(sigma, a.pos), V(arg, a.kids[2].pos, paren=True))
        except (ShapeError, AmbiguousInputError, _Unknown):
            return  # the product is not well-shaped: only the sigmoid reading is left
        raise self.fail(AmbiguousInputError, rf"\sigma(...) has two readings: the sigmoid of "
                        rf"{describe(arg)}, or the declared {describe(sigma)} times it; write "
                        r"\sigma \, (...) or \sigma \cdot (...) for the product, "
                        r"\operatorname{sigmoid}(...) for the function", a.pos)

    # ---- values ------------------------------------------------------------------------------
    def value(self, a: A) -> V:
        self._last_pos = a.pos
        return getattr(self, "v_" + a.kind)(a)

    def v_name(self, a: A) -> V:
        return self.lookup(a)

    def v_num(self, a: A) -> V:
        (text,) = a.kids
        if "." in text:
            if len(text) > 40:
                raise self.fail(LatexSyntaxError, "a number with too many digits", a.pos)
            return V(core.number(float(text)), a.pos)
        if len(text) > 40:
            raise self.fail(LatexSyntaxError, "a number with too many digits", a.pos)
        return V(core.number(int(text)), a.pos, one=text == "1")

    def v_ones(self, a: A) -> V:
        (sub,) = a.kids
        if sub is None:
            return V(None, a.pos, pending="ones")
        if _TIMES.search(sub):  # \mathbf{1}_{n \times k}: the ones matrix
            return V(core.ones(*self.shape(sub, a.pos)), a.pos)
        return V(core.ones(self.size(sub, a.pos)), a.pos, ones=True)

    def v_zeros(self, a: A) -> V:
        (sub,) = a.kids
        if sub is None:
            return V(None, a.pos, pending="zeros")
        if _TIMES.search(sub):  # \mathbf{0}_{n \times k}, as the printer sizes zero matrices
            return V(core.zeros(*self.shape(sub, a.pos)), a.pos)
        return V(core.zeros(self.size(sub, a.pos)), a.pos)

    def v_group(self, a: A) -> V:
        return self.value(a.kids[0])

    def v_paren(self, a: A) -> V:
        return replace(self.value(a.kids[0]), paren=True)

    def v_paren_sub(self, a: A) -> V:  # index notation (indices.py)
        return read(self, a)

    v_isum = v_paren_sub

    def v_sum(self, a: A) -> V:
        first, rest = a.kids
        acc = self.value(first)
        for op, term in rest:
            b = self.value(term)
            self._last_pos = op.start_pos
            fn = {"PLUS": api.add, "OPLUS": api.add, "MINUS": api.sub, "OMINUS": api.sub}[op.type]
            acc = self.elementwise(fn, acc, b, op.start_pos)
        return acc

    def v_neg(self, a: A) -> V:
        v = self.value(a.kids[0])
        node = self.materialize(v)
        c = core.const_value(node)
        if self.foldable(c):
            return V(core.number(-c), a.pos)
        return V(api.neg(node), a.pos, row=v.row and node.ndim == 1)

    def v_had(self, a: A) -> V:
        first, rest = a.kids
        acc = self.value(first)
        for op, f in rest:
            b = self.value(f)
            self._last_pos = op.start_pos
            if op.type == "ODOT":
                acc = self.elementwise(api.mul, acc, b, op.start_pos)
            elif op.type == "OTIMES":
                x, y = self.materialize(acc), self.materialize(b)
                if {x.ndim, y.ndim} == {1, 2}:  # beside a matrix, a vector is its column,
                    # or the row it is written as (yᵀ Bᵀ)
                    x, y = (api.reshape(z, (1, z.shape[0]) if v.row else (z.shape[0], 1))
                            if z.ndim == 1 else z for z, v in ((x, acc), (y, b)))
                # a scalar is a 1×1 block: its Kronecker product scales
                acc = V(api.mul(x, y) if 0 in (x.ndim, y.ndim) else api.kron(x, y),
                        op.start_pos)
            else:
                acc = self.divide(acc, b, op.start_pos)
        return acc

    def divide(self, a: V, b: V, pos: int) -> V:
        x, y = self.materialize(a), self.materialize(b)
        cx, cy = core.const_value(x), core.const_value(y)
        if self.foldable(cx, cy):
            return V(self.number(cx / cy, pos), pos)
        return self.elementwise(api.div, V(x, a.pos), V(y, b.pos), pos)

    def foldable(self, *values) -> bool:
        """Constants fold into one number (1/(k n)), a bounded number of times per input:
        SymPy arithmetic costs a millisecond, and `n n n ...` must not take seconds."""
        if any(v is None for v in values) or self.folds >= MAX_FOLDS:
            return False
        self.folds += 1
        return True

    def number(self, v, pos: int) -> Node:
        try:
            return core.number(v)
        except SymgradError as exc:
            raise self.fail(SymgradError, str(exc), pos) from None

    def elementwise(self, fn, a: V, b: V, pos: int) -> V:
        if a.pending and b.pending:
            raise self.fail(AmbiguousInputError, "cannot tell the size of either operand; "
                            r"write \mathbf{1}_{n} or I_{n}", pos)
        if a.pending:
            a = V(self.sized_like(a, self.materialize(b), pos), a.pos)
        if b.pending:
            b = V(self.sized_like(b, self.materialize(a), pos), b.pos)
        x, y = self.oriented(a, b), self.oriented(b, a)
        x, y = self.unify_columns(x, y)
        cx, cy = core.const_value(x), core.const_value(y)
        if fn in (api.add, api.sub, api.mul) and self.foldable(cx, cy):
            v = {api.add: cx + cy, api.sub: cx - cy, api.mul: cx * cy}[fn]
            return V(self.number(v, pos), pos)
        return V(fn(x, y), pos)

    def oriented(self, v: V, other: V) -> Node:
        """A flex vector (logsumexp_col(X), transposed or not) as the row or the column its
        partner in an elementwise operation is."""
        x = self.materialize(v)
        o = other.node
        if v.flex and o is not None and o.ndim == 2 and v.node.ndim == 1:
            n_ = v.node.shape[0]
            if o.shape in ((n_, 1), (1, n_)):
                return api.reshape(v.node, o.shape)
        return x

    @staticmethod
    def unify_columns(x: Node, y: Node) -> tuple[Node, Node]:
        """(n,) next to (n, 1): both are the column; NumPy would make an (n, n) matrix. Next to
        a 1×1 (a number on paper) a 1-D vector is the column too, not NumPy's (1, n) row."""
        def column(v: Node, other: Node) -> bool:
            return v.ndim == 1 and v.shape[0] != 1 and other.ndim == 2 and \
                other.shape in ((v.shape[0], 1), (1, 1))

        if column(x, y):
            return api.reshape(x, (x.shape[0], 1)), y
        if column(y, x):
            return x, api.reshape(y, (y.shape[0], 1))
        return x, y

    def sized_like(self, p: V, other: Node, pos: int) -> Node:
        if p.pending == "eye":
            if other.ndim != 2 or other.shape[0] != other.shape[1]:
                raise self.fail(ShapeError, f"I next to {describe(other)}: the identity "
                                "needs a square partner; write I_{n}", pos)
            return core.eye(other.shape[0])
        if other.ndim == 0:
            raise self.fail(AmbiguousInputError, r"cannot tell the size of \mathbf{"
                            f"{'1' if p.pending == 'ones' else '0'}" + "} next to a scalar; "
                            r"write \mathbf{1}_{n}", pos)
        return (core.ones if p.pending == "ones" else core.zeros)(*other.shape)

    # ---- atoms --------------------------------------------------------------------------------
    def v_norm(self, a: A) -> V:
        inner, sub = a.kids
        x = self.materialize(self.value(inner))
        if x.ndim == 0:
            raise self.fail(ShapeError, f"the norm of a scalar {describe(x)}: write |x|", a.pos)
        s = (sub or "").replace(" ", "")
        if s in ("", "F", "2") or (s == "2" and (x.ndim == 1 or 1 in x.shape)):
            if s == "2" and x.ndim == 2 and 1 not in x.shape:
                raise self.fail(LatexSyntaxError, "the spectral norm ‖X‖₂ of a matrix is not "
                                r"supported; \left\| X \right\|_F is the Frobenius norm", a.pos)
            return V(linalg.norm(x), a.pos)
        raise self.fail(LatexSyntaxError, f"the norm ‖·‖_{sub} is not supported (only the "
                        "Euclidean and Frobenius norms)", a.pos)

    def v_bars(self, a: A) -> V:
        return V(api.abs_(self.materialize(self.value(a.kids[0]))), a.pos)

    def v_sqrt(self, a: A) -> V:
        return V(api.sqrt(self.materialize(self.value(a.kids[0]))), a.pos)

    def v_frac(self, a: A) -> V:
        num, den = a.kids
        d = self.d_fraction(num, den)
        if d is not None:
            return self.upstream_value(d, a.pos)
        top = self.materialize(self.value(num))
        bottom = self.materialize(self.value(den))
        if bottom.ndim > 0:
            self.warn(rf"\frac{{..}}{{{describe(bottom)}}}: read as elementwise division",
                      a.pos)
        return self.divide(V(top, a.pos), V(bottom, a.pos), a.pos)

    def d_fraction(self, num: A, den: A) -> A | None:
        """\\frac{dL}{df} (d undeclared) is the upstream gradient of f, like ∂L/∂f."""
        if "d" in self.d.vars or "d" in self.d.defs:
            return None

        def split(x: A):
            if x.kind == "prod" and len(x.kids[0]) == 2:
                f0, f1 = x.kids[0]
                if f0.kind == "name" and f0.kids[:2] == ("d", None):
                    return f1
            return None

        if split(num) is not None:
            return split(den)
        return None

    def v_upstream(self, a: A) -> V:
        return self.upstream_value(a.kids[1], a.pos)

    def upstream_value(self, of: A, pos: int) -> V:
        name = self.plain_name(of)
        if name is None:
            raise self.fail(LatexSyntaxError, r"\partial must be followed by a name: "
                            r"\frac{\partial L}{\partial f}", pos)
        k = key_of(name)
        hit = self.upstream.get(k, self.d.upstreams.get(k))
        if hit is not None:
            return V(hit, pos)
        target = self.d.defs.get(k, self.d.vars.get(k))
        if target is None:
            raise self.fail(UnknownSymbolError, f"the upstream gradient ∂L/∂{name} needs the "
                            f"shape of {name}: declare it (e.g. shapes={{\"{name}\": "
                            "(\"n\", \"k\")})", pos)
        vname = target.params[0] if target.op is core.VAR else name
        return V(core.variable(core.upstream_name(vname), *target.shape,
                                   kind=core.Kind.UPSTREAM), pos)

    def v_call(self, a: A) -> V:
        fname, sub, arg, paren = a.kids
        fn = function(fname)
        if fn is None:  # pragma: no cover -- the tokenizer only emits known names
            raise self.fail(LatexSyntaxError, f"unknown function {fname}", a.pos)
        if fname == "sigmoid" and self.text.startswith("\\sigma", a.pos):
            self.sigma_product(a)
        word = _WORD.match(self.text, a.pos)
        if word and word.group(1) != "operatorname" and key_of(word.group(2)) in (
                self.d.vars.keys() | self.d.defs.keys()):
            raise self.fail(AmbiguousInputError, f"{word.group()} has two readings: the "
                            f"function {fname} or the declared variable {word.group(2)}; write "
                            rf"\operatorname{{{word.group(2)}}} for the function, "
                            rf"\mathit{{{word.group(2)}}} for the variable", a.pos)
        if fname == "log" and not paren and arg.kind == "bars":  # \log|X| is log det X
            x = self.materialize(self.value(arg.kids[0]))
            if x.ndim == 2 and x.shape[0] == x.shape[1]:
                return V(linalg.logdet(x), a.pos)
            return V(api.log(api.abs_(x)), a.pos)
        v = self.value(arg)
        x = self.materialize(v)
        if v.flex and v.node.ndim == 1 and sub is not None:  # the labelled axis is the long one
            want = axis_from_sub(sub, fname)
            x = api.reshape(v.node, (v.node.shape[0], 1) if want == 0 else (1, v.node.shape[0]))
        self._last_pos = a.pos
        if fname == "softmax" and sub is None and x.ndim == 2:
            self.warn(r"\operatorname{softmax} of a matrix without _{\mathrm{row}} or "
                      r"_{\mathrm{col}}: taken over all entries", a.pos)
        try:
            out = fn(x, sub)
        except ShapeError:
            # On paper a column is a vector: a column (or a row) where the function needs a
            # 1-D vector is that vector (diag(c) of a declared n×1 c), a 1-D vector where it
            # needs a matrix is the column (vec(1ₙ)), as the printer writes them.
            if x.ndim == 1 and x.shape[0] != 1:
                x = api.reshape(x, (x.shape[0], 1))
            elif x.ndim == 2 and 1 in x.shape and x.shape[0] != x.shape[1]:
                x = api.reshape(x, (x.shape[0] * x.shape[1],))
            else:
                raise
            out = fn(x, sub)
        if out.op.name != "softmax" and x.ndim == 2 and out.ndim == 1 \
                and axis_from_sub(sub, fname) == 0:
            # a reduction of each column: row or column (by its axis: a square X's
            # logsumexp_{row} has the same shape, and it is a column)
            return V(out, a.pos, flex=True)
        # a function of a row, entry by entry or a softmax, is that row: softmax(xᵀ A)ᵀ is
        # the column the printer writes (a named 1-D part defined that way is a column)
        return V(out, a.pos, row=v.row and not v.lift and x.ndim == 1 and out.shape == x.shape)
