"""`check(claim, y, wrt, shapes)`: is a hand-derived gradient right?

The decision is numeric: the claim and symgrad's gradient are evaluated in float64 at several
random bindings of the symbolic sizes (distinct sizes, so a transpose or a wrong shape cannot
hide behind n = m) and several random inputs each; one agreeing sample never makes a verdict.
The comparison is relative to the size of the values, so it holds at every scale (a gradient
of entries 1e-10 claimed twice too large is wrong), plus the float64 rounding error of the two
computations, measured by evaluating them again with every intermediate value perturbed by a
few ulps (Monte Carlo arithmetic): a claim right up to rounding stays right.
When the claim is wrong, cheap experiments on the same samples name the likely mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import numpy as np
import sympy

from .display import inline_math
from .errors import DifferentiationError, EvaluationError, SizeError, SymgradError
from .grad import grad
from .latex_in.build import Builder, conform
from .latex_in.declare import Declarations, ShapesArg, declarations, key_of
from .latex_in.parser import parse_document, statements
from .node import Node, describe, topo
from .numeric import evaluate, free_sizes, variables
from .ops import core
from .ops.shape import sum_axes
from .printing import latex
from .shapes import can_broadcast
from .simplify import simplify
from .testing import random_env

__all__ = ["Counterexample", "Verdict", "check"]


def fmt_dims(shape) -> str:
    """n×k for a matrix, a length for a vector, 'a scalar' for ()."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of length {shape[0]}"
    return "×".join(str(s).replace("*", "") for s in shape)


@dataclass
class Counterexample:
    """One binding of sizes and inputs where the claim and the gradient differ."""

    sizes: dict[str, int]
    inputs: dict[str, np.ndarray]
    claimed: np.ndarray
    true: np.ndarray
    difference: float  # the largest absolute difference (inf when the shapes differ)
    where: tuple[int, ...] | None  # its index

    def __str__(self) -> str:
        sz = ", ".join(f"{k}={v}" for k, v in self.sizes.items()) or "no symbolic sizes"
        with np.printoptions(precision=4, suppress=True, linewidth=100, threshold=60):
            lines = [f"counterexample ({sz}):"]
            rows = [(k, np.asarray(v)) for k, v in self.inputs.items()]
            rows += [("claimed", self.claimed), ("true", self.true)]
            width = max(len(k) for k, _ in rows)
            for k, v in rows:
                head = f"  {k:<{width}} = "
                lines.append(head + np.array2string(v).replace("\n", "\n" + " " * len(head)))
        if self.where is None:
            lines.append(f"  shapes differ: claimed {self.claimed.shape}, true {self.true.shape}")
        else:
            lines.append(f"  largest difference {self.difference:.3g} at index {self.where}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"sizes": self.sizes, "inputs": {k: np.asarray(v).tolist()
                                                for k, v in self.inputs.items()},
                "claimed": self.claimed.tolist(), "true": self.true.tolist(),
                "difference": None if not np.isfinite(self.difference) else self.difference,
                "where": list(self.where) if self.where is not None else None}


@dataclass
class Verdict:
    """The answer of check(): `ok`, a one-line `summary`, and when wrong a `counterexample`
    and a `diagnosis` (the first of `diagnoses`, the likely mistakes found)."""

    ok: bool
    summary: str
    claim: Node
    gradient: Node  # symgrad's gradient, simplified
    wrt: Node
    counterexample: Counterexample | None = None
    diagnosis: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    samples: int = 0
    bindings: int = 0
    symbolic: bool = False  # simplify() made the claim and the gradient the same node

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [self.summary]
        lines += [f"  - {d}" for d in self.diagnoses[1:]]
        if self.counterexample is not None:
            lines.append(str(self.counterexample))
        return "\n".join(lines)

    def __repr__(self) -> str:  # the dataclass's would print every array of the counterexample
        head = self.summary if len(self.summary) <= 100 else self.summary[:99] + "…"
        return f"<Verdict {head}>"

    def _repr_markdown_(self) -> str:
        word, _, rest = self.summary.partition(": ")
        lines = [f"**{'✓' if self.ok else '✗'} {word}**: {inline_math(rest)}"]
        if not self.ok:
            lines.append(f"The claim, as read: ${latex(self.claim)}$")
        if self.diagnoses[1:]:
            lines.append("Other readings:\n\n" + "\n".join(
                f"- {inline_math(d)}" for d in self.diagnoses[1:]))
        if self.counterexample is not None:
            lines.append(f"```text\n{self.counterexample}\n```")
        return "\n\n".join(lines)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "summary": self.summary, "diagnosis": self.diagnosis,
                "diagnoses": self.diagnoses, "claim": latex(self.claim),
                "gradient": latex(self.gradient), "wrt": self.wrt.params.name,
                "samples": self.samples, "bindings": self.bindings, "symbolic": self.symbolic,
                "counterexample": self.counterexample.to_dict() if self.counterexample else None}


# ---- the inputs ------------------------------------------------------------------------------
def _objective(y, shapes: ShapesArg) -> tuple[Node, Declarations]:
    if isinstance(y, str):
        res = parse_document(y, shapes)
        return res.expr, res.decls
    if not isinstance(y, Node):
        y = core.as_node(y)
    d = declarations(shapes)
    for n in topo(y):
        if n.op is core.VAR:
            d.add_node(n.params[0], n)
        elif n.op is core.NAME:
            d.defs.setdefault(key_of(n.params[0]), n)
    return y, d


def find_variable(wrt, y: Node, d: Declarations) -> Node:
    """The variable `wrt` names (a variable of y, or a declared one)."""
    if isinstance(wrt, Node):
        if wrt.op is not core.VAR:
            raise DifferentiationError(f"wrt must be a variable, not {wrt}")
        return wrt
    if not isinstance(wrt, str) or not wrt.strip():
        raise DifferentiationError(f"wrt must be a variable or its name, not {wrt!r}")
    k = key_of(wrt.strip().lstrip("\\"))
    for v in variables(y):
        if key_of(v.params.name) == k and not core.is_upstream(v):
            return v
    if k in d.vars:
        return d.vars[k]
    raise DifferentiationError(
        f"{wrt} is not a variable of the objective; its variables are "
        f"{', '.join(sorted(v.params.name for v in variables(y) if not core.is_upstream(v)))}")


class _AnyUpstream(dict):
    """The claim's ∂L/∂z for a name z nothing else declares is the upstream of y."""

    def __init__(self, items: dict, fallback: Node | None, known: Declarations) -> None:
        super().__init__(items)
        self.fallback, self.known = fallback, known

    def get(self, k, default=None):
        if k in self:
            return self[k]
        if self.fallback is not None and k not in self.known.vars and k not in self.known.defs \
                and k not in self.known.upstreams:
            return self.fallback
        return default


# ---- sampling ---------------------------------------------------------------------------------
@dataclass
class _Sample:
    sizes: dict
    env: dict
    claimed: np.ndarray
    true: np.ndarray
    noise: float = 0.0  # how far rounding alone may move claimed - true (absolute)


MAX_ENTRIES = 10**6  # per array at a sampled binding; a larger size cannot be checked
_ULPS = 4 * np.finfo(float).eps  # the relative perturbation that stands for rounding
_NOISE_RUNS, _NOISE_SAFETY = 2, 8
_NOISE_CAP = 1e-11  # of the largest intermediate value: rounding never explains more


def _entries(nodes, sizes: dict) -> None:
    """Refuse a binding where some array is too large to sample (R^{n n n ...}, R^{10^11})."""
    for n in nodes:
        count = 1
        for s in n.shape:
            count *= int(sympy.sympify(s).subs(sizes)) if isinstance(s, sympy.Expr) else int(s)
            if count > MAX_ENTRIES:
                sz = ", ".join(f"{k}={v}" for k, v in sizes.items()) or "no symbolic sizes"
                raise SizeError(
                    f"{describe(n)} has more than {MAX_ENTRIES:,} entries at the sizes "
                    f"check() samples ({sz}): too large to evaluate; declare smaller sizes")


def _values_and_noise(claim: Node, truth: Node, env: dict, sizes: dict, rng):
    """The claim and the truth at env, and a bound on what float64 rounding does to their
    difference: both computations again with each value perturbed by a few ulps."""
    c, t = (np.asarray(v, float) for v in evaluate([claim, truth], env, sizes))
    if c.shape != t.shape:
        return c, t, 0.0
    largest = [0.0]

    def perturb(n: Node, a: np.ndarray) -> np.ndarray:
        if not n.args and n.op is not core.VAR:
            return a  # constants (2 in x^2, I, 1) are exact
        fin = np.abs(a[np.isfinite(a)])
        largest[0] = max(largest[0], float(np.max(fin, initial=0.0)))
        return a * (1.0 + _ULPS * rng.uniform(-1.0, 1.0, np.shape(a)))

    spread = 0.0
    for _ in range(_NOISE_RUNS):
        c2, t2 = evaluate([claim, truth], env, sizes, perturb=perturb)
        with np.errstate(invalid="ignore"):
            moved = np.abs(np.asarray(c2) - c) + np.abs(np.asarray(t2) - t)
        spread = max(spread, float(np.max(moved[np.isfinite(moved)], initial=0.0)))
    return c, t, min(_NOISE_SAFETY * spread, _NOISE_CAP * largest[0])


def _size_bindings(syms, count: int, rng) -> list[dict]:
    """`count` different bindings, each of distinct sizes 2..7 (more when many sizes)."""
    high = max(7, len(syms) + 3)
    out: list[dict] = []
    seen: set = set()
    for _ in range(50 * count):
        picks = rng.choice(np.arange(2, high + 1), size=len(syms), replace=False)
        key = tuple(int(p) for p in picks)
        if key in seen:
            continue
        seen.add(key)
        out.append({s: int(p) for s, p in zip(syms, picks)})
        if len(out) == count or not syms:
            break
    return out


def _close(a: np.ndarray, b: np.ndarray, rtol: float, noise: float = 0.0) -> bool:
    """a equals b up to rtol times the largest entry of either, and the rounding `noise`;
    NaN and infinite entries must agree exactly."""
    if a.shape != b.shape:
        return False
    fin = np.isfinite(a)
    if not (np.array_equal(fin, np.isfinite(b)) and np.array_equal(a[~fin], b[~fin], True)):
        return False
    a, b = a[fin], b[fin]
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return float(np.max(np.abs(a - b), initial=0.0)) <= rtol * scale + noise


def _as_truth_shape(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The claimed array reshaped to the true one when they differ only by unit axes."""
    if c.shape != t.shape and c.size == t.size and \
            [s for s in c.shape if s != 1] == [s for s in t.shape if s != 1]:
        return c.reshape(t.shape)
    return c


# ---- the check ----------------------------------------------------------------------------------
def check(claim, y, wrt=None, shapes: ShapesArg = None, *, seed: int = 0, bindings: int = 3,
          samples: int = 3, rtol: float = 1e-7) -> Verdict:
    """Is `claim` the gradient of `y` with respect to `wrt`?

    `claim` and `y` are LaTeX or expressions; `y` may be `f = ...` to name it. A non-scalar `y`
    is differentiated against its upstream gradient, written `\\frac{\\partial L}{\\partial f}`
    in the claim (any loss and any name of y). `wrt` is a variable or its name; it may be left
    out when the claim says it (`\\frac{\\partial L}{\\partial b} = ...`). `shapes` declares the
    variables as for parse(); a declared expression (`{"M": sg.ones(N)}`) stands for itself.

    The claim is evaluated against symgrad's gradient at `bindings` random bindings of the
    sizes (distinct sizes) times `samples` random inputs, in float64.
    """
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (seed, bindings, samples)):
        raise SymgradError(f"seed, bindings and samples are integers, got {seed!r}, "
                           f"{bindings!r}, {samples!r}")
    if bindings < 2 or samples < 1:
        raise SymgradError("check() needs at least 2 size bindings and 1 sample each")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1:
        raise SymgradError(f"rtol is a relative tolerance between 0 and 1 (e.g. 1e-7), got "
                           f"{rtol!r}")
    y_node, decls = _objective(y, shapes)
    label = y_node.params[0] if y_node.op is core.NAME else "f"
    upstream = core.upstream_of(y_node, label) if y_node.ndim else None
    if isinstance(claim, str):
        ups = _AnyUpstream({key_of(label): upstream} if upstream is not None else {},
                           upstream, decls)
        res = Builder(claim, decls, ups).document(statements(claim))
        claim_node, wrt = res.expr, (wrt if wrt is not None else res.wrt)
        row = res.row
    else:
        claim_node, row = core.as_node(claim), False
    if wrt is None:
        raise DifferentiationError(
            r"say which variable the claim differentiates by: wrt=..., or write the claim as "
            r"\frac{\partial L}{\partial b} = ...")
    x = find_variable(wrt, y_node, decls)
    truth = grad(y_node, x, upstream=upstream) if upstream is not None else grad(y_node, x)
    return _decide(claim_node, truth, y_node, x, upstream, seed, bindings, samples, rtol, row)


def _orientation(shape, row: bool = False) -> str:
    """How a shape reads on paper; `row`: a 1-D claim written as a row (x^\top A)."""
    nonunit = [s for s in shape if s != 1]
    if len(nonunit) != 1:
        return "other"
    if (len(shape) == 2 and shape[0] == 1) or (len(shape) == 1 and row):
        return "row"
    return "column"


def _decide(claim: Node, truth: Node, y: Node, x: Node, upstream: Node | None, seed: int,
            nbind: int, nsamp: int, rtol: float, row: bool = False) -> Verdict:
    shape_note: list[str] = []
    shape_ok = claim.shape == truth.shape
    if not shape_ok and [s for s in claim.shape if s != 1] == [s for s in truth.shape if s != 1] \
            and _orientation(claim.shape, row) == _orientation(truth.shape):
        claim = conform(claim, truth.shape)  # (n,) and (n, 1) are the same column on paper
        shape_ok = True
    if not shape_ok:
        shape_note.append(f"wrong shape: the claim is {fmt_dims(claim.shape)}, the gradient "
                          f"of {latex(x)} is {fmt_dims(truth.shape)}")
    symbolic = False
    if shape_ok:
        try:
            symbolic = simplify(claim) is simplify(truth)
        except SymgradError:
            symbolic = False
    rng = np.random.default_rng(seed)
    roots = [y, claim, truth] + ([upstream] if upstream is not None else [])
    nodes = topo(roots)
    syms = sorted(free_sizes(nodes), key=str)
    drawn: list[_Sample] = []
    for sizes in _size_bindings(syms, nbind, rng):
        _entries(nodes, sizes)
        for _ in range(nsamp):
            drawn.append(_sample(roots, y, claim, truth, sizes, rng))
    ok = shape_ok and all(_close(s.claimed, s.true, rtol, s.noise) for s in drawn)
    nb = len({tuple(s.sizes.values()) for s in drawn})
    grad_tex = latex(truth)
    if ok:
        how = "; simplify() agrees symbolically" if symbolic else ""
        summary = (f"right: the claim equals the gradient {grad_tex} at {len(drawn)} random "
                   f"points over {nb} size bindings{how}")
        return Verdict(True, summary, claim, truth, x, samples=len(drawn), bindings=nb,
                       symbolic=symbolic)
    # The specific mistakes first: a wrong shape is what they lead to, not what went wrong.
    diagnoses = _diagnose(claim, truth, y, x, upstream, drawn, rng, rtol) + shape_note
    bad = next(s for s in drawn if not _close(s.claimed, s.true, rtol, s.noise))
    cex = _counterexample(bad)
    head = diagnoses[0] if diagnoses else "the claim differs from the gradient"
    if shape_note and head != shape_note[0]:
        head += f" ({shape_note[0]})"
    summary = f"wrong: {head}; the gradient is {grad_tex}"
    return Verdict(False, summary, claim, truth, x, cex, diagnoses[0] if diagnoses else None,
                   diagnoses, len(drawn), nb, symbolic)


def _sample(roots, y, claim, truth, sizes, rng) -> _Sample:
    last = None
    for domain in ("any", "positive"):
        env = random_env(roots, sizes, rng, domain)
        try:
            yv = evaluate(y, env, sizes)
            c, t, noise = _values_and_noise(claim, truth, env, sizes, rng)
        except EvaluationError as exc:
            raise SymgradError(f"cannot evaluate the claim: {exc}") from None
        last = _Sample(sizes, env, c, t, noise)
        if np.all(np.isfinite(yv)) and np.all(np.isfinite(t)):
            break
    return last


def _counterexample(s: _Sample) -> Counterexample:
    c, t = s.claimed, s.true
    inputs = {v.params.name: np.asarray(a) for v, a in s.env.items()}
    sizes = {str(k): int(v) for k, v in s.sizes.items()}
    if c.shape != t.shape:
        return Counterexample(sizes, inputs, c, t, float("inf"), None)
    d = np.abs(c - t)
    d = np.where(np.isnan(d), np.inf, d)
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), d.shape)) if d.size else ()
    return Counterexample(sizes, inputs, c, t, float(np.max(d, initial=0.0)), where)


# ---- diagnoses ----------------------------------------------------------------------------------
def _all(drawn, f, rtol) -> bool:
    return all(_close(f(s), s.true, rtol, s.noise) for s in drawn)


def _diagnose(claim, truth, y, x, upstream, drawn, rng, rtol) -> list[str]:
    out: list[str] = []
    name = latex(x)

    def transposed(s):
        c = s.claimed
        if c.ndim == 2:
            return _as_truth_shape(c.T, s.true)
        if c.ndim == 1 and s.true.ndim == 2:
            return _as_truth_shape(c, s.true.T).T if s.true.shape[0] == 1 else c
        return c

    if claim.ndim == 2 or truth.ndim == 2:
        if _all(drawn, transposed, rtol) and not _all(drawn, lambda s: s.claimed, rtol):
            out.append(f"off by a transpose: the claim is the transpose of the gradient of "
                       f"{name} (the wrong layout; the gradient has the shape of {name})")
    same = claim.shape == truth.shape
    if same and _all(drawn, lambda s: -s.claimed, rtol):
        out.append("wrong sign: the claim is minus the gradient")
    elif same:
        factor = _factor(drawn, rtol)
        if factor is not None:
            out.append(f"off by a constant factor: the claim is {factor} times the gradient")
    sym = _symmetric_only(claim, truth, y, x, upstream, drawn, rng, rtol)
    if sym:
        out.append(sym)
    if upstream is not None and x.shape != y.shape and can_broadcast(x.shape, y.shape):
        out += _broadcast(claim, truth, y, x, upstream, drawn, rng, rtol)
    return out


def _factor(drawn, rtol) -> str | None:
    """c = a t with one a in all samples, or a = a size (n, 1/n, n k) in each binding."""
    alphas = []
    for s in drawn:
        t, c = s.true.ravel(), s.claimed.ravel()
        tt = float(t @ t)
        if tt == 0.0:
            return None
        a = float(c @ t) / tt
        if not _close(s.claimed, a * s.true, rtol * 10, s.noise):
            return None
        alphas.append(a)
    if all(abs(a - alphas[0]) <= 1e-6 * max(1.0, abs(alphas[0])) for a in alphas):
        a = alphas[0]
        if abs(a - 1) < 1e-9:
            return None
        r = sympy.nsimplify(a, tolerance=1e-9, rational=True)
        return str(r) if abs(float(r) - a) < 1e-9 else f"{a:.6g}"
    syms = list(drawn[0].sizes)
    cands = [(s, {s}) for s in syms] + [(1 / s, {s}) for s in syms]
    cands += [(a * b, {a, b}) for a, b in product(syms, syms) if str(a) < str(b)]
    for expr, _ in cands:
        if all(abs(float(expr.subs(s.sizes)) - a) < 1e-6 * abs(a) for s, a in zip(drawn, alphas)):
            return str(expr).replace("*", " ")
    return None


def _symmetric_only(claim, truth, y, x, upstream, drawn, rng, rtol) -> str | None:
    """Right when some square matrices are symmetric: try again with them symmetrized,
    one at a time first (the smallest explanation), then all together."""
    squares = [v for v in variables([y, claim]) if v.ndim == 2 and v.shape[0] == v.shape[1]
               and not core.is_upstream(v)]
    if not squares or claim.shape != truth.shape:
        return None
    groups = [[v] for v in squares] + ([squares] if len(squares) > 1 else [])
    for group in groups:
        trials = []
        for s in drawn:
            env = dict(s.env)
            for v in group:
                env[v] = (env[v] + env[v].T) / 2
            try:
                c, t, noise = _values_and_noise(claim, truth, env, s.sizes, rng)
            except EvaluationError:
                return None
            trials.append(_Sample(s.sizes, env, c, t, noise))
        if _all(trials, lambda s: s.claimed, rtol):
            names = ", ".join(latex(v) for v in group)
            verb = "is" if len(group) == 1 else "are"
            return (f"true only when {names} {verb} symmetric: the claim equals the gradient "
                    f"for symmetric {names}, not in general")
    return None


def _broadcast(claim, truth, y, x, upstream, drawn, rng, rtol) -> list[str]:
    """x is broadcast into y: a missing sum over the broadcast axes is the classic mistake."""
    out = []
    axes = sum_axes(y.shape, x.shape)
    lengths = ", ".join(f"{i} (length {y.shape[i]})" for i in axes)
    one = len(axes) == 1
    what = f"the broadcast {'axis' if one else 'axes'} {lengths}"
    u = latex(upstream)
    if claim.shape == y.shape:
        def summed(s):
            c = np.sum(s.claimed, axis=tuple(axes), keepdims=True)
            return _as_truth_shape(c.reshape(c.shape[len(y.shape) - len(x.shape):]), s.true)

        if _all(drawn, summed, rtol):
            out.append(f"missing the sum over {what}: the claim has the shape of the output; "
                       f"summed over {'that axis' if one else 'those axes'} it is the gradient")
    # Make the upstream constant along the broadcast axes and look again.
    trials = []
    for s in drawn:
        env = dict(s.env)
        g = env[upstream]
        keep = np.take(g, [0], axis=axes[0]) if g.ndim else g
        for ax in axes[1:]:
            keep = np.take(keep, [0], axis=ax)
        env[upstream] = np.broadcast_to(keep, g.shape).copy()
        try:
            c, t = evaluate([claim, truth], env, s.sizes)
        except EvaluationError:
            return out
        c, t = np.asarray(c), np.asarray(t)
        if t.shape != c.shape and c.ndim == y.ndim:  # compare the claim with the broadcast truth
            try:
                t = np.broadcast_to(t.reshape((1,) * (c.ndim - t.ndim) + t.shape), c.shape)
            except ValueError:
                return out
        trials.append(_Sample(s.sizes, env, c, t, s.noise))
    if _all(trials, lambda s: s.claimed, rtol):
        out.append(f"true only when the upstream gradient {u} is constant along {what}: "
                   f"the gradient sums {u} over {'that axis' if one else 'those axes'} "
                   "(a sum over the broadcast axis is missing)")
    return out
