"""Every op's VJP, driven by the registry: the dot-product test against central finite
differences in float64 (first and second order, raw and simplified cotangents), and against
torch.autograd through an independent torch translation of the expression (tests/torch_oracle.py).

Each registered op declares its test cases (`Op.cases`); the `registry_case` parameter
(conftest.py) runs over all of them, with ids like "add-(3,4)-(4,)".
"""

from __future__ import annotations

import numpy as np
import pytest

from symgrad.grad import vjp
from symgrad.numeric import evaluate
from symgrad.op import REGISTRY
from symgrad.ops.core import variable
from symgrad.testing import numeric_grad, sample

# Ops that are leaves or identities: they need no test cases of their own (they are checked
# wherever they appear). Any other op without cases fails test_every_op_has_cases.
LEAVES = {"var", "number", "constant", "ones", "zeros", "eye", "name"}

EPS = 1e-6  # central-difference step
RTOL = 1e-6  # relative to the largest finite-difference entry (at least 1)
TORCH_RTOL = 1e-9  # symbolic vs torch.autograd: both exact up to rounding

SIMPLIFY = pytest.mark.parametrize("simplify", [False, True], ids=["raw", "simplified"])


def test_every_op_has_cases():
    missing = [
        name for name, op in REGISTRY.items()
        if name not in LEAVES and not (op.cases and op.cases()) and not (
            op.tensor_cases and op.tensor_cases())  # ops that exist only beyond matrices
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
    """For each variable x_i: g_i = d<U, y>/dx_i as an expression, a random V_i of its shape and
    the symbolic d<V_i, g_i>/dx for every variable x."""
    env, u, cts = _first_order(case, simplify)
    out = []
    for i, g in enumerate(cts):
        v, vval = _upstream(f"V{i}", g.shape, case.rng(f"V{i}"))
        env[v] = vval
        try:
            hs = vjp(g, list(case.xs), v, simplify=simplify)
        except Exception as exc:
            exc.add_note(f"differentiating g = d<U, y>/d{case.xs[i].params[0]} = {g}")
            raise
        assert [h.shape for h in hs] == [x.shape for x in case.xs]
        out.append((g, v, hs))
    return env, u, out


# ---- finite differences ------------------------------------------------------------------------
@SIMPLIFY
def test_vjp_first_order(registry_case, simplify):
    case = registry_case
    env, u, cts = _first_order(case, simplify)
    assert [c.shape for c in cts] == [x.shape for x in case.xs]
    sym = evaluate(cts, env)
    num = finite_vjp(case.y, env[u], case.xs, env)
    for x, s, n, c in zip(case.xs, sym, num, cts):
        assert_matches(s, n, f"d<U, y>/d{x.params[0]} = {c}")


# Second order: the first cotangent g_i of each variable (an expression in the variables and U)
# is itself differentiated. No case is skipped: step and sign have a zero derivative in their
# sampled domain (away from 0), so g is zero there and the check is trivially right but still
# exercises the driver; relu and abs have g = U step(x) / U sign(x), whose derivative is zero
# away from 0, which the finite differences see too.
@SIMPLIFY
def test_vjp_second_order(registry_case, simplify):
    case = registry_case
    env, _, second = _second_order(case, simplify)
    for g, v, hs in second:
        num = finite_vjp(g, env[v], case.xs, env)
        for x, s, n, h in zip(case.xs, evaluate(hs, env), num, hs):
            assert_matches(s, n, f"d<V, g>/d{x.params[0]} with g = {g}: {h}")


# ---- torch.autograd ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def oracle():
    pytest.importorskip("torch")
    import torch_oracle

    return torch_oracle


def test_oracle_knows_every_op(oracle, library_ops):
    # The library's ops; a user-defined elementwise function registered by another test is not
    # one (the registry cases, and so the torch tests, are taken from the same startup snapshot).
    missing = sorted(set(library_ops) - set(oracle.TORCH_OPS))
    assert not missing, f"ops without a torch translation in tests/torch_oracle.py: {missing}"


def _torch_env(oracle, env):
    return {k: oracle.tensor(a) for k, a in env.items()}


@SIMPLIFY
def test_vjp_vs_torch(registry_case, simplify, oracle):
    case = registry_case
    env, u, cts = _first_order(case, simplify)
    tenv = _torch_env(oracle, env)
    yt = oracle.to_torch(case.y, tenv)
    # The forward values agree: the translation means what the op means.
    assert_matches(evaluate(case.y, env), oracle.numpy(yt), f"value of {case.y}", TORCH_RTOL)
    ref = oracle.grads(oracle.inner(tenv[u], yt), [tenv[x] for x in case.xs])
    for x, s, r, c in zip(case.xs, evaluate(cts, env), ref, cts):
        assert_matches(s, oracle.numpy(r), f"d<U, y>/d{x.params[0]} = {c}", TORCH_RTOL)


@SIMPLIFY
def test_second_order_vs_torch(registry_case, simplify, oracle):
    case = registry_case
    env, u, second = _second_order(case, simplify)
    tenv = _torch_env(oracle, env)
    xs = [tenv[x] for x in case.xs]
    yt = oracle.to_torch(case.y, tenv)
    gts = oracle.grads(oracle.inner(tenv[u], yt), xs, create_graph=True)
    for (g, v, hs), gt in zip(second, gts):
        assert_matches(evaluate(g, env), oracle.numpy(gt), f"value of g = {g}", TORCH_RTOL)
        ref = oracle.grads(oracle.inner(tenv[v], gt), xs, retain_graph=True)
        for x, s, r, h in zip(case.xs, evaluate(hs, env), ref, hs):
            assert_matches(s, oracle.numpy(r), f"d<V, g>/d{x.params[0]} with g = {g}: {h}",
                           TORCH_RTOL)
