"""Numbers: evaluate() is the reference semantics (NumPy); gradcheck() tests a gradient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy

from .errors import EvaluationError, SymgradError
from .names import name_key
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
    by_name.update({name_key(k): v for k, v in by_name.items() if name_key(k) not in by_name})
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


def evaluate(expr, env: dict, sizes: dict | None = None, *,
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
    out = [vals[e] for e in exprs]
    return out if many else out[0]


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
        shape = tuple(int(sympy.sympify(s).subs(sizes)) for s in v.params[1])
        square = len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1
        env[v] = sample(shape, "posdet" if square else domain, rng)
        if core.is_symmetric(v):  # declared structure holds at every sampled point
            env[v] = (env[v] + env[v].T) / 2
        elif core.is_pm1(v):
            env[v] = rng.choice([-1.0, 1.0], shape)
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


def gradcheck(y, wrt, env: dict | None = None, sizes: dict | None = None, seed: int = 0,
              eps: float = 1e-6, tol: float = 1e-5) -> GradcheckReport:
    """Compare symbolic gradients of y with central finite differences at a random point.

    A non-scalar y is checked through <U, y> with a random upstream U. Sizes are drawn
    distinct at random unless given; variables not in `env` are sampled (square matrices
    well-conditioned with positive determinant; positive values if y is otherwise NaN).
    """
    from .grad import grad

    y = core.as_node(y)
    xs = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    rng = np.random.default_rng(seed)
    up = core.upstream_of(y, "gradcheck") if y.ndim else None
    roots = [y] + ([up] if up is not None else [])
    if sizes is None:
        sizes = {}
        if env:
            _, sizes = bind([v for v in variables(y) if v in env or v.params[0] in env],
                            env)
        sizes.update({k: v for k, v in random_sizes(roots, rng).items() if k not in sizes})
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
        errors[x.params[0]] = (abs_err, rel)
        ok &= bool(rel <= tol) and bool(np.all(np.isfinite(gsym)))
    return GradcheckReport(ok, {str(k): v for k, v in sizes.items()}, errors, tol)
