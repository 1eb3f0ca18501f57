"""Reductions over axes: sum (mean is sum / count), logsumexp, softmax."""

from __future__ import annotations

import numpy as np
import sympy

from ..errors import ShapeError
from ..node import Node, describe
from ..op import ATOM, FRAC, PROD, Op, Spelling, later, provide, register, rule
from ..shapes import numel
from . import core
from .arith import add, mul, sub
from .shape import BROADCAST, T, broadcast_to, reshape, transpose

# Beyond matrices: any axis or tuple of axes, negative ones too.
TENSOR_AXIS_CASES = [((2, 3, 4), None), ((2, 3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), (0, 2)),
                     ((2, 1, 4), 1), ((2, 3, 4, 5), (1, -1)), ((2, 3, 4, 5), (0, 1, 2))]
AXIS_CASES = [((4,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((1, 4), 0), ((3, 1), 1)]


def norm_axes(x: Node, axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, int) or isinstance(a, bool) or not -x.ndim <= a < x.ndim:
            raise ShapeError(f"axis {a!r} is out of range for {describe(x)}")
        out.append(a % x.ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _red_shape(args, params):
    axes, keepdims = params
    return _reduced_shape(args[0].shape, axes, keepdims)


def _spread(g: Node, x: Node, axes) -> Node:
    """The adjoint of a reduction: g with the reduced axes put back, broadcast to x's shape."""
    if g.ndim:
        g = reshape(g, _reduced_shape(x.shape, axes, True))
    return broadcast_to(g, x.shape)


def _axes_label(x: Node, axes) -> str | None:
    """'row' when each row is reduced (axis 1 of a matrix), 'col' for axis 0, None for all."""
    if x.ndim < 2 or len(axes) == x.ndim:
        return None
    return "row" if axes == (1,) else "col"


def _shifted_axes(n: Node, lead) -> tuple[int, ...]:
    """A reduction's axes past the new leading batch axes."""
    return tuple(len(lead) + a for a in n.params[0])


def _bound(x: Node, axes, keepdims: bool, E, idx) -> tuple[list[str], list[str]]:
    """(indices of x, letters bound by the sum) for a reduction of x at output indices idx."""
    free = iter(idx)
    child, bound = [], []
    for i, s in enumerate(x.shape):
        if i in axes:
            if keepdims:
                next(free)
            if s == 1:
                child.append("1")
            else:
                bound.append(E.fresh(s))
                child.append(bound[-1])
        else:
            child.append(next(free))
    return child, bound


def _entry_sum(n: Node, E, idx):
    child, bound = _bound(n.args[0], n.params[0], n.params[1], E, idx)
    return E.summed(bound, E.entry(n.args[0], child))


def _exp_entry(x: Node, E, idx) -> tuple[str, int]:
    return E.P.func(E.P.pick(r"\exp", "exp"), E.entry(x, idx)[0]), ATOM


def _entry_lse(n: Node, E, idx):
    child, bound = _bound(n.args[0], n.params[0], n.params[1], E, idx)
    total = E.summed(bound, _exp_entry(n.args[0], E, child))[0]
    return E.P.pick(rf"\log\left({total}\right)", f"log({total})"), ATOM


def _entry_softmax(n: Node, E, idx):
    x = n.args[0]
    child, bound = _bound(x, n.params[0], True, E, idx)
    num = _exp_entry(x, E, idx)[0]
    den = E.summed(bound, _exp_entry(x, E, child))[0]
    if E.P.is_latex:
        return rf"\frac{{{num}}}{{{den}}}", FRAC
    return f"{num}/({den})", PROD


# ---- sum ---------------------------------------------------------------------------------
def _sum_explicit(n: Node) -> Node:
    """G 1, Gᵀ 1, 1ᵀ G 1, 1ᵀ x: sums as products with ones vectors."""
    x = n.args[0]
    axes, _ = n.params
    if x.ndim > 2:  # beyond matrices the sum is explicit in index notation
        return n
    long = tuple(a for a in axes if x.shape[a] != 1)
    if long != axes:  # a sum over a unit axis is no sum: never print a 1₁ factor
        return reshape(_sum_explicit(sum_(x, long, True)) if long else x, n.shape)
    if x.ndim == 1:
        out = later.matmul(core.ones(x.shape[0]), x)
    elif axes == (1,):
        out = later.matmul(x, core.ones(x.shape[1], 1))
    elif axes == (0,):
        if n.ndim == 2:
            out = later.matmul(transpose(core.ones(x.shape[0], 1)), x)
        else:
            out = later.matmul(transpose(x), core.ones(x.shape[0], 1))
    else:
        row = later.matmul(transpose(core.ones(x.shape[0], 1)), x)
        out = later.matmul(row, core.ones(x.shape[1], 1))
    return reshape(out, n.shape)


def _code_sum(n, a, B):
    axes, keepdims = n.params
    return B.code(B.reduce(a[0], "sum", axes, keepdims, a[0].ndim), hint="sum_{0}")


def _mf_sum(R, n: Node) -> Node:
    a = n.args[0]
    return R.mm(R.sum_map(a.shape, n.params[0]), R.of(a))

SUM = register(Op(
    "sum", shape=_red_shape, matrix_form=_mf_sum, entry=_entry_sum,
    batch=lambda n, args, deps, lead: sum_(args[0], _shifted_axes(n, lead), n.params[1]),
    vjp=lambda n, g, needs: (_spread(g, n.args[0], n.params[0]),),
    print=lambda n, P: P.fmt(_sum_explicit(n)),
    numpy=lambda n, vals, sizes: np.sum(vals[0], axis=n.params[0], keepdims=n.params[1]),
    explicit=_sum_explicit, linear=True,
    cases=lambda: [(lambda a, ax=ax, kd=kd: sum_(a, ax, kd), [(s, "any")])
                   for s, ax in AXIS_CASES for kd in (False, True)],
    tensor_cases=lambda: [(lambda a, ax=ax, kd=kd: sum_(a, ax, kd), [(s, "any")])
                          for s, ax in TENSOR_AXIS_CASES for kd in (False, True)],
    code=_code_sum,
))


def sum_(x, axis=None, keepdims: bool = False) -> Node:
    """Sum over `axis` (None: all), as numpy.sum."""
    x = core.as_node(x)
    axes = norm_axes(x, axis)
    if not axes:
        return x
    return Node(SUM, (x,), (axes, bool(keepdims)))


def mean(x, axis=None, keepdims: bool = False) -> Node:
    """Mean over `axis`: the sum divided by the count (a symbolic count for symbolic sizes)."""
    x = core.as_node(x)
    axes = norm_axes(x, axis)
    count = numel(tuple(x.shape[i] for i in axes))
    return mul(core.number(sympy.Integer(1) / count), sum_(x, axes, keepdims))


@rule(SUM, "sum-unit-axes")
def _sum_unit(n):
    x = n.args[0]
    axes, kd = n.params
    if all(x.shape[i] == 1 for i in axes):
        return reshape(x, n.shape)
    return None


@rule(SUM, "sum-constant")
def _sum_const(n):
    x = n.args[0]
    axes, _ = n.params
    count = numel(tuple(x.shape[i] for i in axes))
    if x.op is core.ZEROS:
        return core.zeros(*n.shape)
    if x.op is core.ONES:
        return mul(core.number(count), core.ones(*n.shape))
    if x.op is BROADCAST and x.args[0].ndim == 0:  # sum of a broadcast scalar: count · s
        return broadcast_to(mul(core.number(count), x.args[0]), n.shape)
    return None


@rule(SUM, "sum-simplex-rows")
def _sum_simplex(n):  # Y 1 = 1 for rows declared to sum to one (measure: one sum fewer)
    x = n.args[0]
    axes, _ = n.params
    if x.ndim - 1 not in axes:
        return None
    count = numel(tuple(x.shape[i] for i in axes if i != x.ndim - 1))
    while x.op is SUM and x.params[1] and x.ndim - 1 not in x.params[0]:  # 1ᵀ Y 1: N
        count *= numel(tuple(x.args[0].shape[i] for i in x.params[0]))
        x = x.args[0]
    if not core.rows_sum_to_one(x):
        return None
    return mul(core.number(count), core.ones(*n.shape)) if n.shape else core.number(count)


@rule(SUM, "sum-broadcast-factor")
def _sum_factor(n):
    """(A ⊙ 1 vᵀ)ᵀ 1 = (Aᵀ 1) ⊙ v, (A ⊘ c 1ᵀ) 1 = (A 1) ⊘ c: a Hadamard factor constant along
    the summed axes comes out of the sum. Measure: the summed product loses factors, and no
    rule moves a factor into a sum."""
    x = n.args[0]
    if x.op.algebra not in ("mul", "div") and x.op is not BROADCAST:
        return None
    axes, kd = n.params

    def pad(f):
        return (1,) * (x.ndim - f.ndim) + f.shape

    if not any(all(pad(f)[i] == 1 for i in axes) for f, _ in later.factors(x)):
        return None  # (the cheap look before terms())
    t = later.terms(x)
    if len(t) != 1:
        return None
    ((mono, coeff),) = t.items()
    if coeff != 1:  # pull-scalar's job
        return None
    out = [(f, e) for f, e in mono if all(pad(f)[i] == 1 for i in axes)]
    if not out:
        return None
    keep = tuple(fe for fe in mono if fe not in out)
    factor = later.build_monomial(
        tuple((reshape(f, _reduced_shape(pad(f), axes, kd)), e) for f, e in out))
    if keep:
        rest = later.build_monomial(keep)
        summed = sum_(rest if rest.shape == x.shape else broadcast_to(rest, x.shape), axes, kd)
    else:  # nothing varies along the axes: the count of terms
        summed = core.number(numel(tuple(x.shape[i] for i in axes)))
    res = mul(summed, factor)
    return res if res.shape == n.shape else broadcast_to(res, n.shape)


def _centered(n: Node) -> Node | None:
    """Σₖ (a A + c 1 (Σₖ A)ᵀ + ...) = (a + c nₖ) Σₖ A + Σₖ (...): a term that is the broadcast of
    the same sum meets it, so the column sums of centered data, Σ (X - 1 x̄ᵀ), are 0."""
    x = n.args[0]
    if x.op.algebra not in ("add", "sub"):
        return None
    axes, kd = n.params
    t = later.terms(x)
    count = numel(tuple(x.shape[i] for i in axes))
    for m, c in t.items():
        if len(m) != 1 or m[0][1] != 1:
            continue
        f = m[0][0]
        pad = (1,) * (x.ndim - f.ndim) + f.shape
        if (f.op is not SUM or f.params[0] != axes or f.args[0].shape != x.shape
                or any(pad[i] != 1 for i in axes)):
            continue
        a = f.args[0]
        whole = later.terms(a)
        if len(whole) != 1 or next(iter(whole.values())) != 1:
            continue
        (ma,) = whole
        coeff = t.get(ma, 0) + c * count
        rest = {k: v for k, v in t.items() if k not in (m, ma)}
        parts = [] if coeff == 0 else [mul(later.from_sympy(coeff), sum_(a, axes, kd))]
        if rest:
            parts.append(sum_(later.rebuild(rest, x.shape), axes, kd))
        out = parts[0] if parts else core.zeros(*n.shape)
        for p in parts[1:]:
            out = add(out, p)
        return out if out.size < n.size else None
    return None


def _sums_to_zero(x: Node, axes: tuple) -> bool:
    """Σₖ x = 0 by centering, read through products: 1ᵀ(C B) = (1ᵀC) B, (A C) 1 = A (C 1),
    1ᵀ(C v) = (1ᵀC) v, and the sums of an outer product a bᵀ are (1ᵀa) bᵀ and a (bᵀ1)."""
    name = x.op.name
    if name == "matmul" and x.args[0].ndim == 2:
        a, b = x.args
        if axes == (0,):
            return _sums_to_zero(a, (0,))
        return x.ndim == 2 and b.ndim == 2 and axes == (1,) and _sums_to_zero(b, (1,))
    if name == "outer" and len(axes) == 1:
        return _sums_to_zero(x.args[axes[0]], (0,))
    inner = _centered(sum_(x, axes, True)) if x.op.algebra in ("add", "sub") else None
    return inner is not None and core.is_zero(inner)


@rule(SUM, "sum-of-centered")
def _sum_centered(n):
    """Column sums of centered data vanish, alone or inside a product: 1ᵀ(X - 1x̄ᵀ) = 0,
    1ᵀ(X - 1x̄ᵀ) B = 0 (rows alike). Measure: the tree shrinks (checked)."""
    x = n.args[0]
    if x.op.algebra in ("add", "sub"):
        return _centered(n)
    if x.op.name in ("matmul", "outer") and _sums_to_zero(x, n.params[0]):
        return core.zeros(*n.shape)
    return None


@rule(SUM, "sum-of-transpose")
def _sum_t(n):  # Xᵀ 1 is the column sums of X: sum X itself over the other axis
    x = n.args[0]
    if x.op is not T:
        return None
    axes, kd = n.params
    inner = sum_(x.args[0], tuple(sorted(1 - a for a in axes)), kd)
    return transpose(inner) if kd else inner


@rule(SUM, "sum-of-sum")
def _sum_sum(n):
    x = n.args[0]
    if x.op is not SUM or not x.params[1] or not n.params[1]:
        return None
    return sum_(x.args[0], tuple(sorted(set(x.params[0]) | set(n.params[0]))), True)


# ---- logsumexp and softmax ---------------------------------------------------------------
def _np_lse(v, axes, keepdims):
    m = np.max(v, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(v - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def _np_softmax(v, axes):
    e = np.exp(v - np.max(v, axis=axes, keepdims=True))
    return e / np.sum(e, axis=axes, keepdims=True)


def kept_row(n: Node) -> Node | None:
    """The 1-D column whose transpose the row n is, for a logsumexp kept as a (1, k) row:
    it prints as that column transposed (printed alike, the two would read as one)."""
    if n.op is LSE and n.params[1] and n.ndim == 2 and n.shape[0] == 1 and n.shape[1] != 1:
        return logsumexp(n.args[0], n.params[0])
    return None


def _print_reduction(n, P):  # softmax_{row}(X): the spelling with the axes as a label
    col = kept_row(n)
    if col is not None:
        return P.transpose(col)
    x = n.args[0]
    label = _axes_label(x, n.params[0])
    if label and all(x.shape[a] == 1 for a in n.params[0]):
        # Over a unit axis (each row of a column) is over one entry: x itself, or ones. The
        # label alone would not say it: a column's text may read as a 1-D vector, whose
        # labelled axis is the long one (as sums over a unit axis, never printed).
        return P.fmt(reshape(x, n.shape)) if n.op is LSE else P.ones(n.shape)
    return P.spelled(n, P.sub_text(label) if label else ""), ATOM


def _print_kept_row_t(n, P):  # (lse_col(C)ᵀ)ᵀ is lse_col(C)
    col = kept_row(n)
    return P.fmt(col) if col is not None else None


def _shifted(x, axes, B):
    """m = max(x) over the axes (kept), and exp(x - m): every exponent <= 0, no overflow."""
    m = B.let(B.reduce(x, "max", axes, True, x.ndim), "max_{0}")
    return m, B.let(f"{B.fn('exp')}({x.at(B.ADD)} - {m.at(B.ADD + 1)})", "exp_{0}")


def _code_lse(n, a, B):
    axes, keepdims = n.params
    x = a[0]
    native = B.native("logsumexp", x, axes, keepdims)
    if native:
        return native
    m, e = _shifted(x, axes, B)
    if keepdims:  # the sum is the softmax's denominator too
        s = B.let(B.reduce(e, "sum", axes, True, x.ndim), "sum_{0}")
        return B.code(f"{B.fn('log')}({s}) + {m.at(B.ADD + 1)}", B.ADD, "logsumexp_{0}")
    s = B.reduce(e, "sum", axes, False, x.ndim)
    return B.code(f"{B.fn('log')}({s}) + {B.squeeze(m, axes)}", B.ADD, "logsumexp_{0}")


LSE = register(Op(
    "logsumexp", shape=_red_shape, entry=_entry_lse,
    batch=lambda n, args, deps, lead: logsumexp(args[0], _shifted_axes(n, lead), n.params[1]),
    vjp=lambda n, g, needs: (mul(_spread(g, n.args[0], n.params[0]),
                                 softmax(n.args[0], n.params[0])),),
    print=_print_reduction, print_transposed=_print_kept_row_t,
    spelling=Spelling(r"\operatorname{logsumexp}", "logsumexp", ("logsumexp", "LSE"),
                      subscript="axis", build=lambda x, axis: logsumexp(x, axis)),
    numpy=lambda n, vals, sizes: _np_lse(vals[0], n.params[0], n.params[1]),
    cases=lambda: [(lambda a, ax=ax: logsumexp(a, ax), [(s, "any")]) for s, ax in AXIS_CASES],
    tensor_cases=lambda: [(lambda a, ax=ax, kd=kd: logsumexp(a, ax, kd), [(s, "any")])
                          for s, ax in TENSOR_AXIS_CASES for kd in (False, True)],
    code=_code_lse,
))


def logsumexp(x, axis=None, keepdims: bool = False) -> Node:
    """log(sum(exp(x))) over `axis`, evaluated stably (max-shifted)."""
    x = core.as_node(x)
    axes = norm_axes(x, axis)
    if not axes:
        return x
    return Node(LSE, (x,), (axes, bool(keepdims)))


def _vjp_softmax(n, g, needs):
    s = n
    sg = mul(s, g)
    # Over every axis the sum is a scalar (keepdims would leave a (1,) block to broadcast).
    keep = len(n.params[0]) < n.ndim
    return (sub(sg, mul(s, sum_(sg, n.params[0], keepdims=keep))),)


def _code_softmax(n, a, B):
    axes = n.params[0]
    x = a[0]
    native = B.native("softmax", x, axes)
    if native:
        return native
    _, e = _shifted(x, axes, B)
    s = B.let(B.reduce(e, "sum", axes, True, x.ndim), "sum_{0}")
    return B.code(f"{e.at(B.MUL)} / {s.at(B.MUL + 1)}", B.MUL, "softmax_{0}")


SOFTMAX = register(Op(
    "softmax", shape=lambda args, params: args[0].shape, entry=_entry_softmax,
    batch=lambda n, args, deps, lead: softmax(args[0], _shifted_axes(n, lead)),
    vjp=_vjp_softmax,
    print=_print_reduction,
    spelling=Spelling(r"\operatorname{softmax}", "softmax", ("softmax",), subscript="axis",
                      build=lambda x, axis: softmax(x, axis)),
    numpy=lambda n, vals, sizes: _np_softmax(vals[0], n.params[0]),
    cases=lambda: [(lambda a, ax=ax: softmax(a, ax), [(s, "any")])
                   for s, ax in AXIS_CASES if ax is not None or len(s) == 1],
    tensor_cases=lambda: [(lambda a, ax=ax: softmax(a, ax), [(s, "any")])
                          for s, ax in TENSOR_AXIS_CASES],
    code=_code_softmax,
))


def softmax(x, axis=-1) -> Node:
    """exp(x) / sum(exp(x)) over `axis` (default the last), evaluated stably."""
    x = core.as_node(x)
    if x.ndim == 0:
        raise ShapeError(f"softmax of a scalar {describe(x)} is always 1; give a vector")
    axes = norm_axes(x, axis)
    return Node(SOFTMAX, (x,), (axes, False))


provide(sum=sum_, mean=mean, logsumexp=logsumexp, softmax=softmax)


# ---- cumsum: running sums along an axis --------------------------------------------------------
def _cs_shape(args, params):
    return args[0].shape


def _vjp_cumsum(n, g, needs):  # the adjoint sums from the other end: Σ_{k≥i} g_k
    (axis,) = n.params
    return (add(sub(sum_(g, axis, keepdims=True), cumsum(g, axis)), g),)


def _print_cumsum(n, P):  # cumsum_{col}(X) runs down each column, cumsum_{row}(X) along rows
    x = n.args[0]
    label = "" if x.ndim == 1 else ("col" if n.params[0] == 0 else "row")
    return P.spelled(n, P.sub_text(label) if label else ""), ATOM


def _mf_cumsum(R, n: Node) -> Node:  # vec(cumsum(X)) = (I ⊗ L) vec(X), L lower-triangular ones
    x = n.args[0]
    lower = cumsum(R.eye(x.shape[n.params[0]]), 0)
    if x.ndim == 1:
        return R.mm(lower, R.of(x))
    axis_map = R.kron(R.eye(x.shape[1]), lower) if n.params[0] == 0 else \
        R.kron(lower, R.eye(x.shape[0]))
    return R.mm(axis_map, R.of(x))


CUMSUM = register(Op(
    "cumsum", shape=_cs_shape, vjp=_vjp_cumsum, print=_print_cumsum, linear=True,
    batch=lambda n, args, deps, lead: cumsum(args[0], len(lead) + n.params[0]),
    spelling=Spelling(r"\operatorname{cumsum}", "cumsum", ("cumsum",), subscript="axis",
                      build=lambda x, axis: cumsum(x, axis)),
    numpy=lambda n, vals, sizes: np.cumsum(vals[0], axis=n.params[0]),
    matrix_form=_mf_cumsum,
    cases=lambda: [(lambda a, ax=ax: cumsum(a, ax), [(s, "any")])
                   for s, ax in [((4,), 0), ((3, 4), 0), ((3, 4), 1), ((1, 4), 1), ((3, 1), 0)]],
    code=lambda n, a, B: B.code(
        f"{a[0].at(B.ATOM)}.cumsum({B.backend.axis_kw}={n.params[0]})", hint="cumsum_{0}"),
))


def cumsum(x, axis=None) -> Node:
    """Running sums along `axis` (NumPy's cumsum); a matrix needs its axis, a vector has one."""
    x = core.as_node(x)
    if x.ndim == 0:
        return x
    if axis is None and x.ndim > 1:
        raise ShapeError(f"cumsum of {describe(x)} needs an axis (0: down columns, 1: along rows)")
    (ax,) = norm_axes(x, 0 if axis is None else axis)
    return Node(CUMSUM, (x,), (ax,))


provide(cumsum=cumsum)
