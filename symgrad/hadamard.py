"""Multiplying out Hadamard products of sums, where that is the shorter form.

The normal form of symgrad.algebra keeps a product with a sum whole (distributing grows
expressions). Two mechanisms of simplify() open it when that pays: hadamard-cancel, when the
product's factors cancel against denominators inside the sum (σ (1 - σ) ((1 - y) / (1 - σ) -
y / σ) = σ - y), and collect-expanded, when the terms of a sum collapse once multiplied out
(-y (1 - σ) + (1 - y) σ = σ - y). Each is taken only when the tree gets smaller (Node.size):
that measure makes them terminate.
"""

from __future__ import annotations

import weakref

from .algebra import Monomial, Terms, mono_mul, rebuild, terms
from .node import Node
from .op import provide
from .ops import core, shape

_MAX_TERMS = 32  # expanding further than this is never the shorter form


def _is_sum(f: Node) -> bool:
    return f.op.algebra in ("add", "sub")


def _open(m: Monomial, memo: dict) -> Monomial:
    """m with quotients and products of sums (atoms to terms()) read as their factors:
    (y - 1) ⊘ (1 - σ) is (y - 1)¹ (1 - σ)⁻¹."""
    out: Monomial = ()
    for f, e in m:
        if f.op.algebra in ("mul", "div") and e in (1, -1):
            k = 1 if f.op.algebra == "mul" else -1
            a, b = (_open(next(iter(terms(x, memo))), memo) if len(terms(x, memo)) == 1
                    else ((x, 1),) for x in f.args)
            out = mono_mul(out, mono_mul(a, b, k), e)
        else:
            out = mono_mul(out, ((f, e),))
    return out


_FACTORS: weakref.WeakKeyDictionary[Node, list] = weakref.WeakKeyDictionary()


def _through(e: Node) -> list[tuple[Node, int]] | None:
    """The operands a Hadamard reading passes through, with their exponents' signs, or None
    when e is a factor itself."""
    alg = e.op.algebra
    if alg in ("mul", "div"):
        return [(e.args[0], 1), (e.args[1], 1 if alg == "mul" else -1)]
    if alg == "neg" or e.op is shape.BROADCAST or (alg == "pow" and e.args[1].op is core.NUMBER):
        return [(e.args[0], 1)]
    return None


def factors(n: Node) -> list[tuple[Node, int]]:
    """The Hadamard factors of n, each with the sign of its exponent, read through products,
    quotients, negations, integer powers and broadcasts only: a cheap look before terms()
    (nodes are immutable: remembered). Built from the operands' own lists, so a chain of d
    partial products costs list copies, not d walks of d nodes."""
    got = _FACTORS.get(n)
    if got is not None:
        return got
    stack = [(n, False)]
    while stack:  # children first, without recursion (chains are deep)
        e, ready = stack.pop()
        if e in _FACTORS:
            continue
        parts = _through(e)
        if parts is None:
            _FACTORS[e] = [(e, 1)] if e.shape else []
        elif not ready:
            stack.append((e, True))
            stack += [(a, False) for a, _ in parts if a not in _FACTORS]
        else:
            out: list[tuple[Node, int]] = []
            for a, k in parts:
                out += _FACTORS[a] if k == 1 else [(f, -j) for f, j in _FACTORS[a]]
            _FACTORS[e] = out
    return _FACTORS[n]


def _summands(n: Node) -> list[Node]:
    """The terms of a sum, read through +, - and negation only."""
    out, stack = [], [n]
    while stack:
        e = stack.pop()
        if e.op.algebra in ("add", "sub", "neg"):
            stack += e.args
        else:
            out.append(e)
    return out


def _may_cancel(n: Node) -> bool:
    """Some sum among n's factors divides by one of n's other factors."""
    fs = factors(n)
    up = {f for f, k in fs if k > 0}
    for s, k in fs:
        if k > 0 and _is_sum(s):
            if any(f in up for e in _summands(s) for f, j in factors(e) if j < 0):
                return True
    return False


def open_terms(n: Node, memo: dict | None = None) -> Terms:
    """terms(n) with products and quotients of sums opened into their factors."""
    memo = {} if memo is None else memo
    out: Terms = {}
    for m, c in terms(n, memo).items():
        m = _open(m, memo)
        out[m] = out.get(m, 0) + c
    return out


def _times(t: Terms, u: Terms) -> Terms | None:
    out: Terms = {}
    for m1, c1 in t.items():
        for m2, c2 in u.items():
            m = mono_mul(m1, m2)
            out[m] = out.get(m, 0) + c1 * c2
    return out if len(out) <= _MAX_TERMS else None


def _expand(t: Terms, memo: dict) -> Terms | None:
    """Multiply out the sums that are factors (positive powers) of the terms."""
    out: Terms = {}
    for m, c in t.items():
        part: Terms | None = {tuple(fe for fe in m if not (_is_sum(fe[0]) and fe[1] > 0)): c}
        for f, e in m:
            for _ in range(e if _is_sum(f) else 0):
                part = _times(part, _expand(terms(f, memo), memo) or {}) if part else None
        if part is None:
            return None
        for m2, c2 in part.items():
            out[m2] = out.get(m2, 0) + c2
    out = {m: c for m, c in out.items() if c != 0}
    return out if len(out) <= _MAX_TERMS else None


def cancel(n: Node) -> Node | None:
    """(hadamard-cancel) σ ⊙ (1 - σ) ⊙ ((1 - y) ⊘ (1 - σ) - y ⊘ σ) = σ - y: a product whose
    factors cancel against the denominators inside one of its sums is multiplied out (Hadamard
    products commute). Measure: taken only when the result is a smaller tree (Node.size)."""
    if n.ndim == 0 or not _may_cancel(n):
        return None
    memo: dict = {}
    t = open_terms(n, memo)
    if len(t) != 1:
        return None
    ((mono, coeff),) = t.items()
    up = {f for f, e in mono if e > 0}
    for s, e in mono:
        if e != 1 or not _is_sum(s):
            continue
        inner = open_terms(s, memo)
        if not any(f in up for m in inner for f, k in m if k < 0):
            continue
        rest = tuple(fe for fe in mono if fe[0] is not s)  # (s's exponent is 1)
        spread = _expand({mono_mul(rest, m): coeff * c for m, c in inner.items()}, memo)
        if spread is None:
            continue
        out = rebuild(spread, n.shape)
        if out.size < n.size:
            return out
    return None


def collect(n: Node) -> Node | None:
    """(collect-expanded) -y ⊙ (1 - σ) + (1 - y) ⊙ σ = σ - y: a sum whose terms multiply sums
    is multiplied out when that leaves no more terms and a smaller tree (Node.size), the measure."""
    if n.ndim == 0 or sum(1 for e in _summands(n) if any(
            _is_sum(f) and k > 0 for f, k in factors(e))) < 2:
        return None
    memo: dict = {}
    t = terms(n, memo)
    if sum(1 for m in t if any(_is_sum(f) and e > 0 for f, e in m)) < 2:
        return None
    spread = _expand(open_terms(n, memo), memo)
    if spread is None or len(spread) > len(t):
        return None
    out = rebuild(spread, n.shape)
    return out if out.size < n.size else None


provide(open_terms=open_terms, factors=factors)
