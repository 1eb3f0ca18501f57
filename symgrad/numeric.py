"""Numbers: evaluate() is the reference semantics (NumPy).

The samplers and gradcheck, which test against these semantics, live in symgrad.testing.
"""

from __future__ import annotations

import numpy as np
import sympy

from .errors import EvaluationError
from .node import Node, describe, topo
from .ops import core


def variables(exprs) -> list[Node]:
    """The variables below `exprs`, in a deterministic order (upstream seeds included)."""
    return [n for n in topo(exprs) if n.op is core.VAR]


def free_sizes(nodes) -> set[sympy.Symbol]:
    """The symbolic sizes that shapes and numbers below `nodes` depend on."""
    out: set = set()
    for n in nodes:
        for s in n.shape:
            if isinstance(s, sympy.Expr):
                out |= s.free_symbols
        if n.op is core.NUMBER:
            out |= n.params[0].free_symbols
    return out


def bind(exprs, env: dict, sizes: dict | None = None) -> tuple[dict[Node, np.ndarray], dict]:
    """Match env (keys: variables or names) to the variables; bind sizes from array shapes."""
    order = topo(exprs)
    vs = [n for n in order if n.op is core.VAR]
    by_name = {k: v for k, v in env.items() if isinstance(k, str)}
    bound: dict = {sympy.Symbol(str(k), positive=True, integer=True) if isinstance(k, str)
                   else k: int(v) for k, v in (sizes or {}).items()}
    values: dict[Node, np.ndarray] = {}
    missing = []
    for v in vs:
        name, shape, _ = v.params
        if v in env:
            raw = env[v]
        elif name in by_name:
            raw = by_name[name]
        else:
            missing.append(name)
            continue
        try:
            arr = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as exc:
            raise EvaluationError(f"the value of {name} is not a numeric array: {exc}") from None
        if arr.ndim != len(shape):
            raise EvaluationError(
                f"{name} has shape {shape} ({len(shape)} axes) but its array has shape "
                f"{arr.shape}"
            )
        for want, got in zip(shape, arr.shape):
            if isinstance(want, sympy.Symbol):
                if bound.setdefault(want, got) != got:
                    raise EvaluationError(
                        f"size {want} is {bound[want]} elsewhere but {got} in {name} "
                        f"(array shape {arr.shape})"
                    )
        values[v] = arr
    if missing:
        raise EvaluationError(f"no value given for {', '.join(sorted(set(missing)))}")
    unbound = free_sizes(order) - set(bound)
    if unbound:
        raise EvaluationError(
            f"sizes {', '.join(sorted(map(str, unbound)))} are not fixed by any array; "
            "pass sizes={...}"
        )
    for v, arr in values.items():  # composite sizes (2n, n + 1) must agree too
        want = tuple(int(sympy.sympify(s).subs(bound)) for s in v.params[1])
        if want != arr.shape:
            raise EvaluationError(
                f"{v.params[0]} should have shape {want} for the sizes bound, got {arr.shape}"
            )
    return values, bound


def evaluate(expr, env: dict, sizes: dict | None = None):
    """The value of `expr` (or of each of a list) at `env`: NumPy, float64."""
    many = isinstance(expr, (list, tuple))
    exprs = [core.as_node(e) for e in (expr if many else [expr])]
    values, bound = bind(exprs, env, sizes)
    vals: dict[Node, np.ndarray] = dict(values)
    with np.errstate(all="ignore"):
        for n in topo(exprs):
            if n in vals:
                continue
            try:
                vals[n] = np.asarray(n.op.numpy(n, [vals[a] for a in n.args], bound), float)
            except np.linalg.LinAlgError as exc:
                raise EvaluationError(f"{n.op.name} failed on {describe(n)}: {exc}") from None
    out = [vals[e] for e in exprs]
    return out if many else out[0]
