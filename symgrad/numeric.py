"""Numbers: evaluate() is the reference semantics (NumPy).

The samplers and gradcheck, which test against these semantics, live in symgrad.testing.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import overload

import numpy as np
import sympy

from .errors import EvaluationError, SizeError
from .names import name_key
from .node import Node, describe, topo
from .ops import core
from .shapes import as_size


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
    env = {} if env is None else env
    if not isinstance(env, Mapping):
        raise EvaluationError(f"env must map variables (or their names) to arrays, e.g. "
                              f"{{\"x\": [1.0, 2.0]}}, not {type(env).__name__}")
    order = topo(exprs)
    vs = [n for n in order if n.op is core.VAR]
    by_name = {k: v for k, v in env.items() if isinstance(k, str)}
    by_name.update({name_key(k): v for k, v in by_name.items() if name_key(k) not in by_name})
    bound: dict = {sympy.Symbol(str(k), positive=True, integer=True) if isinstance(k, str)
                   else k: concrete_size(k, v) for k, v in (sizes or {}).items()}
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
        want = tuple(int(sympy.sympify(s).subs(bound)) for s in v.params.shape)
        if want != arr.shape:
            raise EvaluationError(
                f"{v.params.name} should have shape {want} for the sizes bound, got {arr.shape}"
            )
    check_memory(order, bound)
    return values, bound


def concrete_size(name, v) -> int:
    """A size given to evaluate at, as a positive int (a symgrad error otherwise)."""
    size = as_size(v) if not isinstance(v, float) or not v.is_integer() else as_size(int(v))
    if not isinstance(size, int):
        raise SizeError(f"sizes={{{str(name)!r}: {v!r}}}: a size to evaluate at must be a "
                        "positive integer")
    return size


def _memory() -> int:
    """This machine's physical memory in bytes (16 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def check_memory(nodes, sizes: dict) -> None:
    """Refuse, before anything is allocated, sizes at which an array of `nodes` (variables
    and intermediates, float64) would take more than half of this machine's memory."""
    limit, seen, bound = _memory() // 2, set(), tuple(sorted(sizes.items(), key=str))
    for n in topo(nodes):
        if n.shape in seen:
            continue
        seen.add(n.shape)
        entries = _entries(n.shape, bound)
        if entries * 8 > limit:
            raise SizeError(
                f"{describe(n)} at {', '.join(f'{k}={v}' for k, v in bound)} is an array of "
                f"{entries:.3g} entries ({entries * 8 / 2**30:.3g} GiB), more than this "
                f"machine can hold ({limit / 2**30:.3g} GiB of {_memory() / 2**30:.3g}); "
                "evaluate at smaller sizes")


@functools.lru_cache(maxsize=4096)
def _entries(shape: tuple, bound: tuple) -> int:
    sizes = dict(bound)
    return math.prod(int(sympy.sympify(d).subs(sizes)) if isinstance(d, sympy.Expr) else d
                     for d in shape)


@overload
def evaluate(expr: Node | float | int, env: Mapping, sizes: dict | None = None, *,
             perturb: Callable[[Node, np.ndarray], np.ndarray] | None = None) -> np.ndarray: ...
@overload
def evaluate(expr: Sequence[Node], env: Mapping, sizes: dict | None = None, *,
             perturb: Callable[[Node, np.ndarray], np.ndarray] | None = None,
             ) -> list[np.ndarray]: ...
def evaluate(expr, env: Mapping, sizes: dict | None = None, *,
             perturb: Callable[[Node, np.ndarray], np.ndarray] | None = None):
    """The value of `expr` (or of each of a list) at `env`: NumPy, float64.

    `perturb(node, value)`, when given, replaces the value of every node, inputs included:
    check() uses it to see how rounding errors propagate (relative perturbations of a few ulps).
    """
    many = isinstance(expr, (list, tuple))
    exprs = [core.as_node(e) for e in (expr if many else [expr])]
    values, bound = bind(exprs, env, sizes)
    keep = perturb or (lambda n, a: a)
    vals: dict[Node, np.ndarray] = {v: keep(v, a) for v, a in values.items()}
    with np.errstate(all="ignore"):
        for n in topo(exprs):
            if n in vals:
                continue
            try:
                vals[n] = keep(n, np.asarray(n.op.numpy(n, [vals[a] for a in n.args], bound),
                                             float))
            except np.linalg.LinAlgError as exc:
                raise EvaluationError(f"{n.op.name} failed on {describe(n)}: {exc}") from None
            except MemoryError:
                raise SizeError(f"out of memory evaluating {describe(n)} at sizes "
                                f"{bound}; evaluate at smaller sizes") from None
    out = [vals[e] for e in exprs]
    return out if many else out[0]
