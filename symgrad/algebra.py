"""Normal forms for sums of products, with scalar coefficients handled by SymPy.

An expression built from + - * / and integer powers is read as a linear combination of
Hadamard monomials: {((factor, exponent), ...): coefficient}. Factors are the non-scalar
nodes that are not themselves sums or products; the coefficient is a SymPy expression in
which every scalar subexpression that is not arithmetic (tr X, det X, ‖x‖, xᵀy...) is an atom.
So SymPy does the scalar algebra (2‖r‖/‖r‖ = 2, constant folding) and this module does the
matrix part: like terms collect, common matmul factors come out (A x + Aᵀ x = (A + Aᵀ) x).
Broadcasting is linear, so broadcast_to is looked through and the result's shape restored.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sympy

from .errors import UnsupportedError
from .node import Node
from .op import REGISTRY, provide
from .ops import arith, core, elementwise, linalg, shape

Monomial = tuple[tuple[Node, int], ...]
Terms = dict[Monomial, sympy.Expr]

_ATOMS: weakref.WeakValueDictionary[str, Node] = weakref.WeakValueDictionary()
# A reordered inner product (yᵀx for xᵀy) is a new node that nothing else holds: keep it alive
# as long as the original, or _ATOMS drops it before from_sympy reads it back.
_CANON: weakref.WeakKeyDictionary[Node, Node] = weakref.WeakKeyDictionary()


# Memo tables of one simplify() call: a coefficient's node, a rebuilt term, the nodes
# proved to be in normal form. Pure functions of their keys, so sharing them inside a call is
# exact; they are dropped when the call ends, so no node outlives it through them.
_session: dict | None = None


@contextmanager
def session() -> Iterator[None]:
    """Open the memo tables for the calls inside (nested sessions share the outer one)."""
    global _session
    if _session is not None:
        yield
        return
    _session = {"node": {}, "term": {}, "normal": set()}
    try:
        yield
    finally:
        _session = None


def _table(name: str) -> dict | set | None:
    s = _session
    return None if s is None else s[name]


# The arithmetic roles an op declares (Op.algebra), as SymPy operations on scalars.
_SCALAR = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "neg": lambda a: -a,
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
}


# ---- scalars <-> SymPy ------------------------------------------------------------------------
def atom_symbol(n: Node) -> sympy.Symbol:
    # SymPy orders factors by symbol name: name atoms so that order is the node order.
    size, label, digest = n.sort_key
    key = f"_{min(size, 999999):06d}{label}_{digest}"
    _ATOMS[key] = n
    return sympy.Symbol(key, real=True)


def _canonical_inner(n: Node) -> Node:
    """xᵀy and yᵀx are one scalar: order the operands of 1-D inner products."""
    if n.op is linalg.MATMUL and n.args[0].ndim == 1 and n.args[1].ndim == 1:
        a, b = n.args
        if b.sort_key < a.sort_key:
            out = _CANON[n] = linalg.matmul(b, a)
            return out
    return n


def to_sympy(n: Node, memo: dict | None = None) -> sympy.Expr:
    """A scalar node as a SymPy expression (non-arithmetic scalars become real atoms)."""
    memo = {} if memo is None else memo
    if n in memo:
        return memo[n]
    op = n.op
    if op is core.NUMBER:
        out = n.params[0]
    elif op.algebra is not None and all(a.ndim == 0 for a in n.args):
        xs = [to_sympy(a, memo) for a in n.args]
        out = _SCALAR[op.algebra](*xs)
    elif op.sympy is not None and n.args[0].ndim == 0:
        out = op.sympy(to_sympy(n.args[0], memo))
    else:
        out = atom_symbol(_canonical_inner(n))
    memo[n] = out
    return out


def _is_size_expr(e: sympy.Expr) -> bool:
    """Numbers and sizes only: no atoms, and no function SymPy cannot evaluate (sigmoid(0))."""
    if e.atoms(sympy.core.function.AppliedUndef):
        return False
    return all(not s.name.startswith("_") for s in e.free_symbols if isinstance(s, sympy.Symbol))


def from_sympy(e: sympy.Expr, subs: dict | None = None) -> Node:
    """Back from SymPy: the inverse of to_sympy (`subs` maps extra symbols to nodes)."""
    e = sympy.sympify(e)
    memo = None if subs else _table("node")
    if memo is None:
        return _from_sympy(e, subs or {})
    out = memo.get(e)
    if out is None:
        out = memo[e] = _from_sympy(e, {})
    return out


def _from_sympy(e: sympy.Expr, subs: dict) -> Node:
    if e in subs:
        return subs[e]
    if isinstance(e, sympy.Symbol) and e.name in _ATOMS:
        return _ATOMS[e.name]
    if not (e.free_symbols & set(subs)) and _is_size_expr(e):
        if not core.real(e) or e.has(sympy.zoo, sympy.nan, sympy.oo):
            raise UnsupportedError(f"{e} is not a finite real scalar")
        return core.number(e)
    if isinstance(e, sympy.Add):
        pos, negs = [], []
        for t in e.as_ordered_terms():
            (negs if t.could_extract_minus_sign() else pos).append(t)
        if pos:
            out = from_sympy(pos[0], subs)
        elif _is_size_expr(negs[0]) and not negs[0].free_symbols & set(subs):
            # a negative constant (sizes too: -3n/2) leads as the number it is: -1.5 - t
            out = core.number(negs.pop(0))  # (neg(1.5) would fold back to -1.5: a cycle)
        else:
            out = arith.neg(from_sympy(-negs.pop(0), subs))
        for t in pos[1:]:
            out = arith.add(out, from_sympy(t, subs))
        for t in negs:
            out = arith.sub(out, from_sympy(-t, subs))
        return out
    if isinstance(e, sympy.Mul):
        if e.could_extract_minus_sign():
            return arith.neg(from_sympy(-e, subs))
        num, den = [], []
        for f in e.as_ordered_factors():
            if isinstance(f, sympy.Pow) and f.exp.is_number and f.exp < 0:
                den.append(f.base ** -f.exp)
            elif f.is_Rational and f.q != 1:
                if f.p != 1:
                    num.append(sympy.Integer(f.p))
                den.append(sympy.Integer(f.q))
            else:
                num.append(f)
        # The size factors (2, n) as one number 2n, which is how a product of them normalizes
        # (separate 2 and n would be merged and split again: a rewrite cycle).
        size = [f for f in num if _is_size_expr(f) and not f.free_symbols & set(subs)]
        if len(size) > 1:
            num = [sympy.Mul(*size)] + [f for f in num if f not in size]
        out = _product([from_sympy(f, subs) for f in num]) if num else core.number(1)
        if den:  # one denominator: m n is a single size number, as its own normal form
            out = arith.div(out, from_sympy(sympy.Mul(*den), subs))
        return out
    if isinstance(e, sympy.Pow):
        base, ex = e.args
        b = from_sympy(base, subs)
        if ex == sympy.Rational(1, 2):
            return elementwise.sqrt(b)
        if ex.is_number and ex < 0:
            return arith.div(1, from_sympy(base ** -ex, subs))
        if ex == sympy.E:
            return elementwise.exp(b)
        return arith.pow(b, from_sympy(ex, subs))
    if e.func is sympy.exp:
        return elementwise.exp(from_sympy(e.args[0], subs))
    op = elementwise.BY_SYMPY.get(e.func)
    if op is None and isinstance(e, sympy.core.function.AppliedUndef):
        op = REGISTRY.get(e.func.__name__)
    if op is not None and len(e.args) == 1:
        return Node(op, (from_sympy(e.args[0], subs),))
    raise UnsupportedError(f"symgrad has no operator for {e.func.__name__} (in {e})")


def _product(nodes: list[Node]) -> Node:
    out = nodes[0]
    for f in nodes[1:]:
        out = arith.mul(out, f)
    return out


# ---- terms ---------------------------------------------------------------------------------
_TERMS: weakref.WeakKeyDictionary[Node, Terms] = weakref.WeakKeyDictionary()
_SELF: Terms = {}  # the marker, by identity, for "n is its own single monomial"


def _equals(c, v: int) -> bool:
    """c == v for a coefficient c and a small int v, without SymPy's comparison machinery:
    SymPy's == is structural, so only a number can equal an int."""
    return c == v if type(c) is int else (c.is_Number and c == v)


def _times(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    """a b, the common unit factor spared SymPy's product."""
    return b if a is sympy.S.One else a if b is sympy.S.One else a * b


def _factor_key(fe: tuple[Node, int]) -> tuple:
    return fe[0].sort_key


def mono_mul(a: Monomial, b: Monomial, k: int = 1) -> Monomial:
    """The product a b^k, its factors in sort_key order. `a` is sorted already: b's new
    factors are inserted by bisection, so a chain of d products costs d² copies but only
    d log d key computations."""
    exps: dict[Node, int] = dict(a)
    fresh = []
    for f, e in b:
        if f not in exps:
            fresh.append(f)
        exps[f] = exps.get(f, 0) + k * e
        if core.is_pm1(f):  # declared ±1 labels: y ⊙ y = 1 (and y⁻¹ = y)
            exps[f] %= 2
        elif core.is_onehot(f) and exps[f] > 1:  # declared 0/1 entries: y ⊙ y = y
            exps[f] = 1
    if len(fresh) == len(b):  # a's exponents unchanged: copy it whole
        out = list(a)
    else:
        out = [(f, exps[f]) for f, _ in a if exps[f]]
    for f in fresh:
        if exps[f]:
            bisect.insort(out, (f, exps[f]), key=_factor_key)
    return tuple(out)


def _single(t: Terms):
    """(monomial, coefficient) when t is a single term, else None."""
    if len(t) == 1:
        return next(iter(t.items()))
    return None


def _matrix_factors(n: Node) -> list[Node]:
    """The factors of a product of matrices, left to right, whatever its grouping."""
    if n.op is linalg.MATMUL and n.ndim == 2 and n.args[0].ndim == 2 and n.args[1].ndim == 2:
        return _matrix_factors(n.args[0]) + _matrix_factors(n.args[1])
    return [n]


def _atom(n: Node, k: int = 1) -> Terms:
    if n.op is linalg.MATMUL and n.args[0].ndim == 1 and n.args[1].ndim == 2:
        n = linalg.as_column(n)  # x @ A = Aᵀ x: one orientation for 1-D vectors
    factors = _matrix_factors(n)
    if len(factors) > 2:  # (A B) C and A (B C) are one product: group it to the right
        n = factors[-1]
        for f in reversed(factors[:-1]):
            n = linalg.matmul(f, n)
    return {((n, k),): sympy.Integer(1)}


def terms(n: Node, memo: dict | None = None) -> Terms:
    """The linear combination of Hadamard monomials that `n` is (see the module docstring).

    A pure function of the node, memoized for the node's lifetime: simplify asks it of every
    arithmetic node, and unmemoized each call re-walked the whole product below (a depth-d
    chain cost d³). The result is shared: callers must not mutate it."""
    memo = _TERMS if memo is None else memo
    hit = memo.get(n)
    if hit is not None:  # an atom is stored as _SELF: a value holding n would keep n alive
        return {((n, 1),): sympy.Integer(1)} if hit is _SELF else hit
    op = n.op
    if n.ndim == 0:
        out: Terms = {(): to_sympy(n)}
    elif op is core.ZEROS:
        out = {}
    elif op is core.ONES:
        out = {(): sympy.Integer(1)}
    elif op is shape.BROADCAST or shape.prepends_unit_axes(n):
        out = terms(n.args[0], memo)
    elif op.algebra in ("add", "sub"):
        out = dict(terms(n.args[0], memo))
        sign = 1 if op.algebra == "add" else -1
        for m, c in terms(n.args[1], memo).items():
            out[m] = out.get(m, 0) + sign * c
    elif op.algebra == "neg":
        out = {m: -c for m, c in terms(n.args[0], memo).items()}
    elif op.algebra in ("mul", "div"):
        k = 1 if op.algebra == "mul" else -1
        ta, tb = terms(n.args[0], memo), terms(n.args[1], memo)
        sa, sb = _single(ta), _single(tb)
        if not ta or (not tb and k == 1):
            out = {}
        elif sa and sb:
            out = {mono_mul(sa[0], sb[0], k): _times(sa[1], sb[1] if k == 1 else 1 / sb[1])}
        elif sa:  # c m ⊙ (a sum): keep the sum whole (distributing grows expressions)
            out = {mono_mul(sa[0], ((n.args[1], k),)): sa[1]}
        elif sb and k == 1:
            out = {mono_mul(sb[0], ((n.args[0], 1),)): sb[1]}
        elif sb:
            out = {mono_mul(((n.args[0], 1),), sb[0], -1): 1 / sb[1]}
        else:  # two sums: two factors, each kept whole, so products of sums flatten
            out = {mono_mul(((n.args[0], 1),), ((n.args[1], k),)): sympy.Integer(1)}
    elif op.algebra == "pow" and core.is_number(n.args[1]) and n.args[1].params[0].is_Integer:
        p = int(n.args[1].params[0])
        sa = _single(terms(n.args[0], memo))
        if sa and p != 0:
            out = {mono_mul((), sa[0], p): sa[1] ** p}
        else:
            out = _atom(n.args[0], p) if p else {(): sympy.Integer(1)}
    else:
        out = _atom(n)
    out = {m: c for m, c in out.items() if not _equals(c, 0)}
    memo[n] = _SELF if len(out) == 1 and _equals(out.get(((n, 1),), 0), 1) else out
    return out


# ---- rebuilding ----------------------------------------------------------------------------
def _fullness(fe: tuple[Node, int]) -> int:
    """Minus the count of a factor's non-unit axes (a size is an int, or a SymPy size that is
    never 1), to sort fuller factors first."""
    return -sum(1 for s in fe[0].shape if type(s) is not int or s != 1)


def build_monomial(m: Monomial, shp=None) -> Node | None:
    """The Hadamard product of the factors; fuller factors (more non-unit axes) before
    broadcast ones. The order depends on the factors alone, never on the enclosing shape, so
    a product and the products it contains agree (else rebuilding would flip them forever)."""
    m = tuple(sorted(m, key=_fullness))
    num = [f if e == 1 else arith.pow(f, e) for f, e in m if e > 0]
    den = [f if e == -1 else arith.pow(f, -e) for f, e in m if e < 0]
    if not num and not den:
        return None
    out = _product(num) if num else core.number(1)
    return arith.div(out, _product(den)) if den else out


def _term(m: Monomial, c: sympy.Expr, shp, alone: bool) -> tuple[int, Node]:
    """One signed term; a term standing alone is broadcast to the full shape under its
    coefficient (c (x 1ᵀ), not (c x) 1ᵀ, which pull-scalar would turn back)."""
    memo = _table("term")
    if memo is None:
        return _build_term(m, c, shp, alone)
    key = (m, c, shp, alone)
    out = memo.get(key)
    if out is None:
        out = memo[key] = _build_term(m, c, shp, alone)
    return out


def _negative(c: sympy.Expr) -> bool:
    """c.could_extract_minus_sign(), read off a rational (leading) coefficient where there is one:
    SymPy's own test builds -c, which costs a new product's assumptions on a cold cache."""
    if c.is_Rational:
        return c.p < 0
    if c.is_Mul and c.args[0].is_Rational:  # a product's number leads its factors
        return c.args[0].p < 0
    return c.could_extract_minus_sign()


def _build_term(m: Monomial, c: sympy.Expr, shp, alone: bool) -> tuple[int, Node]:
    sign = -1 if _negative(c) else 1
    if sign < 0:
        c = -1 * c
    body = build_monomial(m, shp)
    if alone and body is not None and body.shape != shp:
        body = shape.broadcast_to(body, shp)
    if body is None:
        return sign, from_sympy(c)
    if _equals(c, 1):
        return sign, body
    if m and all(e < 0 for _, e in m):  # c / X rather than c (1 / X)
        den = build_monomial(tuple((f, -e) for f, e in m), shp)
        if alone and den.shape != shp:
            den = shape.broadcast_to(den, shp)
        return sign, arith.div(from_sympy(c), den)
    return sign, arith.mul(from_sympy(c), body)


def _factor_matmuls(items: list[tuple[Monomial, sympy.Expr]]) -> list:
    """A x + B x -> (A + B) x, and A x + A y -> A (x + y), for two or more such terms."""
    for side in (1, 0):
        groups: dict = {}
        for i, (m, _) in enumerate(items):
            if len(m) == 1 and m[0][1] == 1 and m[0][0].op is linalg.MATMUL:
                mm = m[0][0]
                key = (mm.args[side], mm.args[1 - side].shape)
                groups.setdefault(key, []).append(i)
        for (common, _), idx in groups.items():
            if len(idx) < 2:
                continue
            parts: Terms = {}
            for i in idx:
                other = items[i][0][0][0].args[1 - side]
                for m2, c2 in terms(other).items():
                    parts[m2] = parts.get(m2, 0) + items[i][1] * c2
            ordered = dict(sorted(parts.items(), key=lambda mc: _key(mc[0])))
            other_shape = items[idx[0]][0][0][0].args[1 - side].shape
            inner = rebuild(ordered, other_shape, factor=False)
            prod = linalg.matmul(inner, common) if side == 1 else linalg.matmul(common, inner)
            new = [(mc if i not in idx else None) for i, mc in enumerate(items)]
            new[idx[0]] = (((prod, 1),), sympy.Integer(1))
            return _factor_matmuls([x for x in new if x is not None])
    return items


def _key(m: Monomial):
    return tuple(f.sort_key + (e,) for f, e in m)


def rebuild(t: Terms, shp, factor: bool = True) -> Node:
    """The node for a linear combination, positive terms first, with the shape `shp`."""
    items = [(m, c) for m, c in t.items() if not _equals(c, 0)]
    if factor:
        items = _factor_matmuls(items)
    parts = [_term(m, c, shp, len(items) == 1) for m, c in items]
    parts = [p for p in parts if p[0] > 0] + [p for p in parts if p[0] < 0]
    if not parts:
        return core.zeros(*shp)
    sign, out = parts[0]
    if sign < 0:  # a leading negative constant is a negative number, not -(number)
        if out.op is core.NUMBER:
            out = core.number(-out.params[0])
        elif out.ndim == 0:  # a scalar coefficient like s - 2: 2 - s, its own normal form
            out = from_sympy(-to_sympy(out))  # (-(s - 2) would normalize back: a cycle)
        else:
            out = arith.neg(out)
    for sign, p in parts[1:]:
        out = arith.add(out, p) if sign > 0 else arith.sub(out, p)
    if out.shape != shp:
        out = shape.broadcast_to(out, shp)
    return out


def normalize(n: Node) -> Node | None:
    """The normal form of an arithmetic node, or None when it is already in it."""
    if n.ndim == 0:
        try:
            out = from_sympy(to_sympy(n))
        except UnsupportedError:
            return None
        return None if out is n else out
    normal = _table("normal")
    if normal is not None and n in normal:
        return None
    t = terms(n)
    out = rebuild(t, n.shape)
    if out is n:
        return None
    # rebuild is a function of the terms (their order included) and the shape: a result that
    # reads as the very same terms is its own normal form, proved without rebuilding it again.
    if normal is not None and list(terms(out).items()) == list(t.items()):
        normal.add(out)
    return out


def split_scalar(x: Node) -> tuple[sympy.Expr, Node] | None:
    """x = c · rest with a scalar c != 1, or None."""
    if x.ndim == 0:
        return None
    s = _single(terms(x))
    if s is None or _equals(s[1], 1):
        return None
    m, c = s
    rest = build_monomial(m)
    if rest is None:
        rest = core.ones(*x.shape)
    if rest.shape != x.shape:
        rest = shape.broadcast_to(rest, x.shape)
    return c, rest


def pull_scalars(n: Node) -> Node | None:
    """Linear ops: f(c X) = c f(X); matmul and outer: (c A) B = c (A B)."""
    coeff = sympy.Integer(1)
    args = list(n.args)
    for i, a in enumerate(args):
        s = split_scalar(a)
        if s is not None:
            coeff = _times(coeff, s[0])
            args[i] = s[1]
    if _equals(coeff, 1):
        return None
    out = arith.mul(from_sympy(coeff), Node(n.op, tuple(args), n.params))
    norm = normalize(out)  # -(f(X)), not -1 f(X): the product in its normal form at once
    return out if norm is None else norm


provide(terms=terms, from_sympy=from_sympy, rebuild=rebuild, to_sympy=to_sympy,
        build_monomial=build_monomial)
