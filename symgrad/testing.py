"""Test helpers against the reference semantics: random sizes and values from an op's test
domain, central finite differences, and gradcheck (symbolic gradient vs finite differences)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy

from .errors import EvaluationError, SymgradError
from .grad import grad
from .node import describe, topo
from .numeric import bind, check_memory, concrete_size, evaluate, free_sizes, variables
from .ops import core


# ---- sampling and finite differences ----------------------------------------------------------
def sample(shape: tuple[int, ...], domain: str, rng: np.random.Generator) -> np.ndarray:
    """Random float64 values from an op's test domain."""
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain in ("nonzero", "away0"):
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain in ("invertible", "posdet"):
        n = shape[0]
        return 2.0 * np.eye(n) + rng.normal(0, 0.4 / np.sqrt(n), shape)
    if domain == "any":
        return rng.normal(0.0, 1.0, shape)
    raise SymgradError(f"unknown test domain {domain!r}")


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function f at x."""
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        hi = f()
        flat[i] = old - eps
        lo = f()
        flat[i] = old
        gf[i] = (hi - lo) / (2 * eps)
    return g


def random_sizes(exprs, rng: np.random.Generator, low: int = 2, high: int = 6) -> dict:
    """Distinct random values for the symbolic sizes, so transposes cannot hide."""
    syms = sorted(free_sizes(topo(exprs)), key=str)
    pool = list(range(low, max(high, low + len(syms)) + 1))
    picks = rng.choice(pool, size=len(syms), replace=False)
    return {s: int(p) for s, p in zip(syms, picks)}


def random_env(exprs, sizes: dict, rng: np.random.Generator, domain: str = "any") -> dict:
    env = {}
    for v in variables(exprs):
        shape = tuple(int(sympy.sympify(s).subs(sizes)) for s in v.params.shape)
        square = len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1
        env[v] = sample(shape, "posdet" if square else domain, rng)
        if core.is_symmetric(v):  # declared structure holds at every sampled point
            env[v] = (env[v] + env[v].T) / 2
        elif core.is_pm1(v):
            env[v] = rng.choice([-1.0, 1.0], shape)
        elif core.is_onehot(v):  # one 1 per row (per vector)
            env[v] = np.eye(shape[-1])[rng.integers(shape[-1], size=shape[:-1])]
        elif core.rows_sum_to_one(v):  # rows on the probability simplex
            env[v] = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    return env


def numeric_sym_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of f at a symmetric x, perturbed symmetrically: entry (i, j) is the
    derivative along (E_ij + E_ji)/2 (E_ii on the diagonal), which is sym(G)_ij."""
    n = x.shape[0]
    g = np.zeros_like(x)
    for i in range(n):
        for j in range(i, n):
            e = np.zeros_like(x)
            e[i, j] = e[j, i] = 1.0 if i == j else 0.5
            x += eps * e
            hi = f()
            x -= 2 * eps * e
            lo = f()
            x += eps * e
            g[i, j] = g[j, i] = (hi - lo) / (2 * eps)
    return g


@dataclass
class GradcheckReport:
    ok: bool
    sizes: dict
    errors: dict = field(default_factory=dict)  # variable name -> (max abs err, max rel err)
    tolerance: float = 0.0

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        head = "gradcheck passed" if self.ok else "gradcheck FAILED"
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        lines = [f"{head} ({sz}; tolerance {self.tolerance:g})"]
        for name, (a, r) in self.errors.items():
            mark = "ok " if r <= self.tolerance else "BAD"
            lines.append(f"  {mark} d/d{name}: max abs error {a:.2e}, max rel error {r:.2e}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        errs = ", ".join(f"d/d{k} rel {r:.1e}" for k, (_, r) in self.errors.items())
        return f"<GradcheckReport {'passed' if self.ok else 'FAILED'}: {errs}>"

    def _repr_markdown_(self) -> str:
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        rows = [f"**{'✓ gradcheck passed' if self.ok else '✗ gradcheck FAILED'}** "
                f"({sz}; tolerance {self.tolerance:g})", "",
                "| gradient | max abs error | max rel error | |", "|---|---|---|---|"]
        rows += [f"| d/d`{k}` | {a:.2e} | {r:.2e} | {'✓' if r <= self.tolerance else '✗'} |"
                 for k, (a, r) in self.errors.items()]
        return "\n".join(rows)


def gradcheck(y, wrt, env: dict | None = None, sizes: dict | None = None, seed: int = 0,
              eps: float = 1e-6, tol: float = 1e-5) -> GradcheckReport:
    """Compare symbolic gradients of y with central finite differences at a random point.

    A non-scalar y is checked through <U, y> with a random upstream U. Sizes are drawn
    distinct at random unless given; variables not in `env` are sampled (square matrices
    well-conditioned with positive determinant; positive values if y is otherwise NaN).
    """
    for what, v in (("eps", eps), ("tol", tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise EvaluationError(f"{what} must be a positive number (e.g. {what}="
                                  f"{1e-6 if what == 'eps' else 1e-5}), got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise EvaluationError(f"seed must be an integer, got {seed!r}")
    if env is not None and not isinstance(env, Mapping):
        raise EvaluationError(f"env must map variables (or their names) to arrays, not "
                              f"{type(env).__name__}")
    y = core.as_node(y)
    xs = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    rng = np.random.default_rng(seed)
    up = core.upstream_of(y, "gradcheck") if y.ndim else None
    roots = [y] + ([up] if up is not None else [])
    if sizes is None:
        sizes = {}
        if env:
            _, sizes = bind([v for v in variables(y) if v in env or v.params.name in env],
                            env)
        sizes.update({k: v for k, v in random_sizes(roots, rng).items() if k not in sizes})
    else:
        sizes = {sympy.Symbol(str(k), positive=True, integer=True) if isinstance(k, str) else k:
                 concrete_size(k, v) for k, v in sizes.items()}
    check_memory(roots, sizes)
    full: dict = dict(env or {})
    for domain in ("any", "positive"):
        sampled = random_env(roots, sizes, rng, domain)
        trial = {**sampled, **full}
        obj = evaluate(y, trial, sizes)
        if np.all(np.isfinite(obj)):
            break
    else:
        raise EvaluationError(f"could not find a point where {describe(y)} is finite")
    full = trial
    gs = grad(y, xs, upstream=up) if up is not None else grad(y, xs)
    sym = evaluate(gs, full, sizes)

    def objective():
        v = evaluate(y, full, sizes)
        return float(np.sum(full[up] * v)) if up is not None else float(v)

    errors = {}
    ok = True
    for x, gsym in zip(xs, sym):
        full[x] = np.array(full[x], dtype=float)
        num = (numeric_sym_grad if core.is_symmetric(x) else numeric_grad)(objective, full[x], eps)
        abs_err = float(np.max(np.abs(gsym - num), initial=0.0))
        scale = max(1.0, float(np.max(np.abs(num), initial=0.0)))
        rel = abs_err / scale
        errors[x.params.name] = (abs_err, rel)
        ok &= bool(rel <= tol) and bool(np.all(np.isfinite(gsym)))
    return GradcheckReport(ok, {str(k): v for k, v in sizes.items()}, errors, tol)
