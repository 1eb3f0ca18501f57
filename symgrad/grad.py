"""Reverse mode over the shared DAG: VJPs from the registry, broadcasting undone in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import sympy

from .errors import DifferentiationError, ShapeError
from .node import Node, describe, substitute, topo
from .ops import arith, core
from .ops.shape import sum_to, transpose
from .simplify import simplify as _simplify


def _check_wrt(x) -> Node:
    if not isinstance(x, Node) or x.op is not core.VAR:
        what = describe(x) if isinstance(x, Node) else repr(x)
        raise DifferentiationError(
            f"can only differentiate with respect to a variable (sg.matrix/vector/scalar), "
            f"not {what}"
        )
    if core.is_upstream(x):
        raise DifferentiationError(f"{x} is an upstream gradient, not a variable of the expression")
    return x


def sym(g: Node) -> Node:
    """The gradient w.r.t. a symmetric variable S: sym(G) = (G + Gᵀ)/2, G the unconstrained one.

    sym(G) is the projection of G onto the symmetric matrices, the unique symmetric H with
    df = <H, dS> for every symmetric dS: the gradient on the space where S lives, so gradient
    steps keep S symmetric and are steepest descent. The Matrix Cookbook's G + Gᵀ - diag(G)
    lays out the partial derivatives w.r.t. the n(n+1)/2 free entries instead; its off-diagonal
    entries are twice sym(G)'s, so df != <G + Gᵀ - diag(G), dS> (Srinivasan & Panda, 2019).
    Applied where the cotangent of S is complete, so second derivatives project too.
    """
    # Built transposed ((G + Gᵀ)ᵀ is the same matrix) so that simplify's transpose-sum rule
    # sorts the terms: the simplified result is then a fixed point of transposition.
    return arith.mul(sympy.Rational(1, 2), transpose(arith.add(g, transpose(g))))


def backprop(y: Node, seed: Node, wrt: Sequence[Node]) -> list[Node]:
    """Cotangents of `wrt` given the cotangent `seed` of `y` (unsimplified)."""
    order = topo(y)
    targets = set(wrt)
    live: set[Node] = set()  # nodes on a path to some target: only they get cotangents
    for n in order:
        if n in targets or any(a in live for a in n.args):
            live.add(n)
    parts: dict[Node, list[Node]] = {y: [seed]} if y in live else {}
    grads: dict[Node, Node] = {}
    for n in reversed(order):
        if n not in parts:
            continue
        g = parts.pop(n)
        total = g[0]
        for p in g[1:]:
            total = arith.add(total, p)
        if n in targets:
            grads[n] = sym(total) if core.is_symmetric(n) else total
        if not n.args:
            continue
        needs = tuple(a in live for a in n.args)
        if n.op.vjp is None:
            raise DifferentiationError(f"operator {n.op.name} has no derivative rule")
        cts = n.op.vjp(n, total, needs)
        for a, need, ct in zip(n.args, needs, cts):
            if need and ct is not None:
                # The one place broadcasting is undone: sum the cotangent to the arg's shape.
                parts.setdefault(a, []).append(sum_to(ct, a.shape))
    return [grads.get(x, core.zeros(*x.shape)) for x in wrt]


Scalar = Node | float | int


@overload
def vjp(y: Scalar, x: Node, upstream: Scalar, simplify: bool = True) -> Node: ...
@overload
def vjp(y: Scalar, x: Sequence[Node], upstream: Scalar, simplify: bool = True) -> list[Node]: ...
def vjp(y, x, upstream, simplify: bool = True):
    """The vector-Jacobian product: d<upstream, y>/dx for each x (a list when x is a list)."""
    y = core.as_node(y)
    upstream = core.as_node(upstream)
    if upstream.shape != y.shape:
        raise ShapeError(
            f"the upstream gradient {describe(upstream)} must have the shape of "
            f"{describe(y)}"
        )
    many = isinstance(x, (list, tuple))
    xs = [_check_wrt(v) for v in (x if many else [x])]
    out = backprop(y, upstream, xs)
    # Derivatives reuse forward values (tanh' = 1 - tanh²): say them by the names given.
    names = {n.args[0]: n for n in topo(y) if n.op is core.NAME}
    if names:
        out = substitute(out, names)
    if simplify:
        out = _simplify(out)
    return out if many else out[0]


@overload
def grad(y: Scalar, x: Node, upstream: Scalar | None = None, simplify: bool = True) -> Node: ...
@overload
def grad(y: Scalar, x: Sequence[Node], upstream: Scalar | None = None,
         simplify: bool = True) -> list[Node]: ...
def grad(y, x, upstream=None, simplify: bool = True):
    """Gradient of y w.r.t. x (the shape of x). A non-scalar y is back-propagated against a
    symbolic upstream gradient dL/dy (or the `upstream` given): the VJP of y."""
    y = core.as_node(y)
    if upstream is None:
        upstream = core.number(1) if y.ndim == 0 else core.upstream_of(y)
    return vjp(y, x, upstream, simplify=simplify)


