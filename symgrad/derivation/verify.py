"""Numeric verification of a derivation: every step evaluated at random sizes and values."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import sympy

from ..errors import EvaluationError
from ..node import Node
from ..numeric import evaluate
from ..ops import core
from ..testing import random_env, random_sizes

if TYPE_CHECKING:
    from .model import Derivation


@dataclass
class VerifyReport:
    """Numbers in the steps agree? Each check: |a - b| <= tol * max(1, |a|, |b|)."""

    ok: bool
    sizes: dict
    errors: dict[str, float] = field(default_factory=dict)  # check -> relative error
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        head = "steps agree" if self.ok else "steps DISAGREE"
        lines = [f"{head} ({len(self.errors)} checks; {sz})"]
        lines += [f"  BAD {label}: relative error {self.errors[label]:.2e}"
                  for label in self.failed]
        return "\n".join(lines)

    def __repr__(self) -> str:
        worst = max(self.errors.values(), default=0.0)
        head = "steps agree" if self.ok else f"{len(self.failed)} steps DISAGREE"
        return f"<VerifyReport {head}: {len(self.errors)} checks, worst relative error {worst:.1e}>"

    def _repr_markdown_(self) -> str:
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        head = "✓ steps agree" if self.ok else "✗ steps DISAGREE"
        rows = [f"**{head}** ({len(self.errors)} checks; {sz})", "",
                "| check | relative error | |", "|---|---|---|"]
        rows += [f"| {label} | {err:.2e} | {'✗' if label in self.failed else '✓'} |"
                 for label, err in self.errors.items()]
        return "\n".join(rows)


def _sizes(every, rng: np.random.Generator, sizes: dict | None) -> dict:
    """Random sizes for the symbolic sizes in sight, or the given ones (names or symbols)."""
    if sizes is None:
        return random_sizes(every, rng)
    return {sympy.Symbol(str(k), positive=True, integer=True) if isinstance(k, str)
            else k: int(v) for k, v in sizes.items()}


def _comparer(errors: dict[str, float], failed: list[str]):
    """compare(label, a, b, tol): |a - b| <= tol * max(1, |a|, |b|), recorded under label."""

    def compare(label: str, a, b, tol: float = 1e-8) -> None:
        a, b = np.asarray(a, float), np.asarray(b, float)
        scale = max(1.0, float(np.max(np.abs(a), initial=0.0)),
                    float(np.max(np.abs(b), initial=0.0)))
        err = float(np.max(np.abs(a - b), initial=0.0)) / scale
        if a.shape != b.shape or not np.isfinite(err):
            err = float("inf")
        errors[label] = err
        if not err <= tol:
            failed.append(label)

    return compare


def verify(d: Derivation, seed: int = 0, sizes: dict | None = None) -> VerifyReport:
    """Evaluate every step at random sizes and values: consecutive steps must agree, the
    differential must match finite differences, and each gradient the engine's backprop."""
    rng = np.random.default_rng(seed)
    seeds = [d.y, *d.wrt, *d._tangents.values()] + (
        [d._upstream] if d._upstream is not None else [])
    every = seeds + [c.a for c in d._checks] + [
        e.rhs for s in d.steps for e in s.equations]
    sizes = _sizes(every, rng, sizes)
    for domain in ("any", "positive"):
        env = random_env(seeds, sizes, rng, domain)
        for v in d._tangents.values():  # directions: any sign, symmetric if S is
            env[v] = rng.normal(size=env[v].shape)
            if core.is_symmetric(v):
                env[v] = (env[v] + env[v].T) / 2
        if np.all(np.isfinite(evaluate(d.y, env, sizes))):
            break
    else:
        raise EvaluationError(f"could not find a point where {d.y} is finite")
    errors: dict[str, float] = {}
    failed: list[str] = []
    compare = _comparer(errors, failed)

    # The steps themselves: continuation lines equal the line above; the differential
    # equals finite differences of y; each gradient line equals the result, and read
    # against the tangents, sum_v <dL/dv, dv> gives back dL.
    k, last = 0, None
    grads: dict[Node, np.ndarray] = {}
    for step in d.steps:
        first = None
        for i, eq in enumerate(step.equations):
            k += 1
            value = evaluate(eq.rhs, env, sizes)
            if eq.lhs is not None:
                first = value
                if eq.lhs.op is core.VAR and eq.lhs not in env:
                    env[eq.lhs] = value
            else:
                compare(f"line {k} ({step.kind}) equals the line before", value, first,
                        1e-8)
            if step.kind == "differential" and i == 0:
                compare(f"line {k}: the differential equals finite differences", value,
                        _fd(d, env, sizes), 1e-5)
            v = d._labels.get(eq.lhs)
            if v is not None:
                grads[v] = value
                compare(f"line {k}: d/d{v.params.name} equals the result", value,
                        evaluate(d.result[v], env, sizes), 1e-8)
            if step.kind != "gradients":
                last = value
    if d._tangents and grads and last is not None:
        read = sum(float(np.sum(grads[v] * env[dv])) for v, dv in d._tangents.items()
                   if v in grads)
        compare("the gradients read off give back dL", read, last, 1e-8)
    for c in d._checks:
        compare(c.label, evaluate(c.a, env, sizes), evaluate(c.b, env, sizes), c.tol)
    return VerifyReport(not failed, {str(s): v for s, v in sizes.items()}, errors, failed)


def _fd(d: Derivation, env: dict, sizes: dict) -> np.ndarray:
    """Central differences of y along the tangent directions."""
    h = 1e-6
    plus, minus = dict(env), dict(env)
    for v, dv in d._tangents.items():
        plus[v] = env[v] + h * env[dv]
        minus[v] = env[v] - h * env[dv]
    return (evaluate(d.y, plus, sizes) - evaluate(d.y, minus, sizes)) / (2 * h)


def verify_batched(d: Derivation, seed: int = 0, sizes: dict | None = None) -> VerifyReport:
    """A batched derivation checked at random whole arrays, slice by slice: lines of one slice
    (stacked over the slices), lines summed over the slices, and lines of whole arrays must
    agree where they say they do; the differential must match finite differences of the whole
    expression, and every gradient line sg.grad's value. The matrix derivation of one slice
    is verified too (at random slices), its checks reported as "one slice: ..."."""
    b = d._batch
    rng = np.random.default_rng(seed)
    every = [d.y, *d.wrt, *b.slices, *b.slices.values(), *d._tangents.values(), *(
        e.rhs for s in d.steps for e in s.equations)]
    sizes = _sizes(every, rng, sizes)
    seeds = [d.y, *d.wrt] + ([d._upstream] if d._upstream is not None else [])
    for domain in ("any", "positive"):
        env = random_env(seeds, sizes, rng, domain)
        if np.all(np.isfinite(evaluate(d.y, env, sizes))):
            break
    else:
        raise EvaluationError(f"could not find a point where {d.y} is finite")
    for v, dv in d._tangents.items():
        if dv not in b.slices:  # a shared variable's direction dW
            env[dv] = rng.normal(size=env[v].shape)
    for whole in b.slices.values():
        if whole not in env:  # a batched variable's direction dX, sliced into dX_i
            shape = tuple(int(sympy.sympify(s).subs(sizes)) for s in whole.shape)
            env[whole] = rng.normal(size=shape)
    counts = tuple(int(sympy.sympify(z).subs(sizes)) for z in b.sizes)
    envs = []
    for i in itertools.product(*(range(c) for c in counts)):
        e = dict(env)
        e.update({s: env[w][i] for s, w in b.slices.items()})
        e.update({s: evaluate(x, e, sizes) for s, x in b.defs.items()})
        envs.append(e)
    errors: dict[str, float] = {}
    failed: list[str] = []
    compare = _comparer(errors, failed)

    def stack(values: list) -> np.ndarray:  # slices back into the whole, (B, H, ...) first
        out = np.stack([np.asarray(v, float) for v in values])
        return out.reshape(counts + out.shape[1:])

    def bind(lhs: Node | None, values) -> None:
        if lhs is None or lhs.op is not core.VAR or lhs in env:
            return
        if isinstance(values, list):
            for e, v in zip(envs, values):
                e[lhs] = v
        else:
            env[lhs] = values
            for e in envs:
                e[lhs] = values

    whole_y = evaluate(d.y, env, sizes)
    pieces = [evaluate(b.piece, e, sizes) for e in envs]
    compare("the slices make up the expression",
            sum(pieces) if d.y.ndim == 0 else stack(pieces), whole_y)
    k = 0
    for step in d.steps:
        first = None
        for i, eq in enumerate(step.equations):
            k += 1
            if eq.batch == "":
                value = evaluate(eq.rhs, env, sizes)
                bind(eq.lhs, value)
            else:
                per = [evaluate(eq.rhs, e, sizes) for e in envs]
                value = stack(per) if eq.batch == "each" else sum(per)
                bind(eq.lhs, per if eq.batch == "each" else value)
            if eq.lhs is None:
                compare(f"line {k} ({step.kind}) equals the line before", value, first)
            else:
                first = value
            if step.kind == "differential" and i == 0:
                fd = _whole_fd(d, env, sizes)
                compare(f"line {k}: the differential equals finite differences",
                        value if d.y.ndim else np.sum(value), fd, 1e-5)
            v = d._labels.get(eq.lhs) if eq.lhs is not None else None
            if v is not None:
                compare(f"line {k}: d/d{v.params.name} equals the result", value,
                        evaluate(d.result[v], env, sizes))
    for c in d._checks:
        compare(c.label, evaluate(c.a, env, sizes), evaluate(c.b, env, sizes), c.tol)
    one = b.per_slice.verify(seed, {str(s): v for s, v in sizes.items()})
    for label, err in one.errors.items():
        errors["one slice: " + label] = err
    failed += ["one slice: " + label for label in one.failed]
    return VerifyReport(not failed, {str(s): v for s, v in sizes.items()}, errors, failed)


def _whole_fd(d: Derivation, env: dict, sizes: dict) -> np.ndarray:
    """Central differences of y along the whole directions (dW, and dX for a batched X)."""
    b = d._batch
    h = 1e-6
    plus, minus = dict(env), dict(env)
    for v, dv in d._tangents.items():
        w = b.slices.get(v, v)
        direction = env[b.slices.get(dv, dv)]
        plus[w] = env[w] + h * direction
        minus[w] = env[w] - h * direction
    return (evaluate(d.y, plus, sizes) - evaluate(d.y, minus, sizes)) / (2 * h)
