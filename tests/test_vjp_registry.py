"""Every op's VJP, driven by the registry: the dot-product test against central finite
differences in float64 (first and second order, raw and simplified cotangents), and against
torch.autograd through an independent torch translation of the expression (tests/torch_oracle.py).

Each registered op declares its test cases (`Op.cases`); the `case` parameter (conftest.py)
runs over all of them, ids like "add-(3,4)-(4,)".
"""

from __future__ import annotations

import numpy as np
import pytest

from symgrad.grad import vjp
from symgrad.numeric import evaluate, numeric_grad, sample
from symgrad.op import REGISTRY
from symgrad.ops.core import variable

# Ops that are leaves or identities: they need no test cases of their own (they are checked
# wherever they appear). Any other op without cases fails test_every_op_has_cases.
LEAVES = {"var", "number", "ones", "zeros", "eye", "name"}

EPS = 1e-6  # central-difference step
RTOL = 1e-6  # relative to the largest finite-difference entry (at least 1)
TORCH_RTOL = 1e-9  # symbolic vs torch.autograd: both exact up to rounding

SIMPLIFY = pytest.mark.parametrize("simplify", [False, True], ids=["raw", "simplified"])


def test_every_op_has_cases():
    missing = [
        name for name, op in REGISTRY.items()
        if name not in LEAVES and (op.cases is None or not op.cases())
    ]
    assert not missing, f"ops without test cases (declare Op.cases): {missing}"
    assert LEAVES <= set(REGISTRY), f"allow-listed leaves not registered: {LEAVES - set(REGISTRY)}"


# ---- helpers -----------------------------------------------------------------------------------
def _upstream(name: str, shape, rng) -> tuple:
    u = variable(name, *shape)
    return u, sample(shape, "any", rng)


def finite_vjp(f, up: np.ndarray, xs, env: dict) -> list[np.ndarray]:
    """d<up, f(x)>/dx for each x in xs by central differences (env is not modified)."""
    work = {k: np.array(v, dtype=float) for k, v in env.items()}

    def objective() -> float:
        return float(np.sum(up * evaluate(f, work)))

    return [numeric_grad(objective, work[x], EPS) for x in xs]


def assert_matches(sym, ref, what: str, rtol: float = RTOL) -> None:
    sym = np.asarray(sym, dtype=float)
    ref = np.asarray(ref, dtype=float)
    assert sym.shape == ref.shape, f"{what}: shape {sym.shape}, expected {ref.shape}"
    assert np.all(np.isfinite(ref)), f"{what}: reference not finite: {ref}"
    assert np.all(np.isfinite(sym)), f"{what}: symbolic value not finite: {sym}"
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    err = float(np.max(np.abs(sym - ref), initial=0.0))
    assert err <= rtol * scale, (
        f"{what}: max error {err:.3e} > {rtol:g} * {scale:.3g}\nsymbolic:\n{sym}\nreference:\n{ref}"
    )


def _first_order(case, simplify: bool):
    """(env, U node, symbolic cotangents of every variable) for a case."""
    case.check()
    rng = case.rng()
    env = case.env(rng)
    u, uval = _upstream("U", case.y.shape, rng)
    env[u] = uval
    cts = vjp(case.y, list(case.xs), u, simplify=simplify)
    return env, u, cts


def _second_order(case, simplify: bool):
    """g = d<U, y>/dx0 as an expression; the symbolic d<V, g>/dx for every variable x."""
    env, u, cts = _first_order(case, simplify)
    g = cts[0]
    v, vval = _upstream("V", g.shape, case.rng("V"))
    env[v] = vval
    return env, u, g, v, vjp(g, list(case.xs), v, simplify=simplify)


# ---- finite differences ------------------------------------------------------------------------
@SIMPLIFY
def test_vjp_first_order(case, simplify):
    env, u, cts = _first_order(case, simplify)
    assert [c.shape for c in cts] == [x.shape for x in case.xs]
    sym = evaluate(cts, env)
    num = finite_vjp(case.y, env[u], case.xs, env)
    for x, s, n, c in zip(case.xs, sym, num, cts):
        assert_matches(s, n, f"d<U, y>/d{x.params[0]} = {c}")


# Second order: the first cotangent g of x0 (an expression in the variables and U) is itself
# differentiated. No case is skipped: step and sign have a zero derivative in their sampled
# domain (away from 0), so g is zero there and the check is trivially right but still exercises
# the driver; relu and abs have g = U step(x) / U sign(x), whose derivative is zero away from 0.
@SIMPLIFY
def test_vjp_second_order(case, simplify):
    env, _, g, v, cts = _second_order(case, simplify)
    assert [c.shape for c in cts] == [x.shape for x in case.xs]
    sym = evaluate(cts, env)
    num = finite_vjp(g, env[v], case.xs, env)
    for x, s, n, c in zip(case.xs, sym, num, cts):
        assert_matches(s, n, f"d<V, g>/d{x.params[0]} with g = {g}: {c}")


# ---- torch.autograd ----------------------------------------------------------------------------
@pytest.fixture
def oracle():
    pytest.importorskip("torch")
    import torch_oracle

    return torch_oracle


def test_oracle_knows_every_op(oracle):
    missing = sorted(set(REGISTRY) - set(oracle.TORCH_OPS))
    assert not missing, f"ops without a torch translation in tests/torch_oracle.py: {missing}"


def _torch_env(oracle, env):
    return {k: oracle.tensor(a) for k, a in env.items()}


@SIMPLIFY
def test_vjp_vs_torch(case, simplify, oracle):
    import torch

    env, u, cts = _first_order(case, simplify)
    tenv = _torch_env(oracle, env)
    yt = oracle.to_torch(case.y, tenv)
    # The forward values agree (the oracle's translation is the op's meaning).
    assert_matches(evaluate(case.y, env), yt.detach().numpy(), f"value of {case.y}",
                   TORCH_RTOL)
    ref = oracle.grads(torch.sum(tenv[u] * yt), [tenv[x] for x in case.xs])
    for x, s, r, c in zip(case.xs, evaluate(cts, env), ref, cts):
        assert_matches(s, r.detach().numpy(), f"d<U, y>/d{x.params[0]} = {c}", TORCH_RTOL)


def test_second_order_vs_torch(case, oracle):
    import torch

    env, u, g, v, cts = _second_order(case, True)
    tenv = _torch_env(oracle, env)
    x0 = tenv[case.xs[0]]
    yt = oracle.to_torch(case.y, tenv)
    (gt,) = oracle.grads(torch.sum(tenv[u] * yt), [x0], create_graph=True)
    ref = oracle.grads(torch.sum(tenv[v] * gt), [tenv[x] for x in case.xs])
    for x, s, r, c in zip(case.xs, evaluate(cts, env), ref, cts):
        assert_matches(s, r.detach().numpy(), f"d<V, g>/d{x.params[0]} = {c}", TORCH_RTOL)
