"""Every engine over every op of the registry, from the ops' declared cases (Op.cases).

The VJP checks live in test_vjp_registry.py; here: printing then parsing gives back the value,
the Jacobian of a linear op matches finite differences, a derivation verifies, generated code
matches the reference evaluator, and expressions pickle to the interned node. Removing an
op's spelling (parser) or matrix form (Jacobian) makes one of these fail.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import CASES

import symgrad as sg
from symgrad.errors import UnsupportedError
from symgrad.numeric import evaluate
from symgrad.op import REGISTRY, Op, register

RTOL = 1e-7


def _named_env(case, rng) -> dict:
    return {x.params.name: v for x, v in case.env(rng).items()}


def _shapes(case) -> dict:
    return {x.params.name: x.shape for x in case.xs}


def _close(a, b, what: str, rtol: float = RTOL) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, expected {b.shape}"
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    err = float(np.max(np.abs(a - b), initial=0.0))
    assert err <= rtol * scale, f"{what}: off by {err:.3e}\n{a}\nexpected\n{b}"


def test_print_parse_roundtrip(registry_case):
    """parse(latex(y)) evaluates to y's value: the printed formula is the value."""
    case = registry_case
    case.check()
    text = sg.latex(case.y)
    back = sg.parse(text, _shapes(case), shape=case.y.shape)  # settles (n,) vs (n, 1)
    env = _named_env(case, case.rng())
    _close(evaluate(back, env), evaluate(case.y, env), f"parse({text!r})")


def test_unicode_prints(registry_case):
    case = registry_case
    case.check()
    assert str(case.y) and sg.latex(case.y)


def _linear_in(case) -> list:
    """The variables the case's root is linear in, when its op declares a matrix form."""
    op = case.y.op
    if op.matrix_form is None:
        return []
    if op.linear or op.bilinear or op.algebra in ("add", "sub", "neg"):
        return list(case.xs)
    return []


def test_linear_ops_declare_matrix_forms(all_cases):
    """Linear ops have a matrix form for Jacobians (the matrix of the map they are)."""
    def linear(op):  # linear in each argument: linear ops, products, sums and differences
        return op.linear or op.bilinear or op.algebra in ("add", "sub", "neg", "mul", "div")

    missing = sorted({c.op for c in all_cases if c.y is not None and linear(REGISTRY[c.op])
                      and REGISTRY[c.op].matrix_form is None})
    assert not missing, f"linear ops without a matrix form (Op.matrix_form): {missing}"


def _vec(a) -> np.ndarray:
    """vec: the columns stacked (column-major), as sg.vec."""
    return np.asarray(a, dtype=float).reshape(-1, order="F")


LINEAR_CASES = [c for c in CASES if c.y is not None and _linear_in(c)]


@pytest.mark.parametrize("case", LINEAR_CASES, ids=[c.id for c in LINEAR_CASES])
def test_jacobian_matches_finite_differences(case):
    """The matrix form each linear op declares gives its Jacobian: vec(y) by vec(x) (matrices
    in Magnus–Neudecker vec form), against central differences."""
    env = case.env(case.rng("jac"))
    y = sg.vec(case.y) if case.y.ndim == 2 else case.y
    for x in _linear_in(case):
        J = sg.jacobian(y, sg.vec(x) if x.ndim == 2 else x)
        flat = _vec(env[x])
        num = np.zeros((_vec(evaluate(case.y, env)).size, flat.size))
        for k in range(flat.size):
            h = np.zeros_like(flat)
            h[k] = 1e-6
            plus, minus = dict(env), dict(env)
            shape = np.shape(env[x])
            plus[x] = (flat + h).reshape(shape, order="F")
            minus[x] = (flat - h).reshape(shape, order="F")
            num[:, k] = (_vec(evaluate(case.y, plus)) - _vec(evaluate(case.y, minus))) / 2e-6
        got = np.asarray(evaluate(J, env), float).reshape(num.shape)
        _close(got, num, f"jacobian of {y} by {x}", 1e-6)


DIFFERENTIABLE = [c for c in CASES if c.y is not None and REGISTRY[c.op].vjp is not None]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=[c.id for c in DIFFERENTIABLE])
def test_derivation_verifies(case):
    y = case.y if case.y.ndim == 0 else sg.sum(case.y)
    d = sg.derive(y, list(case.xs))
    report = d.verify()
    assert report.ok if hasattr(report, "ok") else report, f"{case.id}: {report}"


def test_codegen_matches_evaluate(registry_case):
    case = registry_case
    case.check()
    f = sg.lambdify([case.y], list(case.xs))
    env = case.env(case.rng("code"))
    (out,) = f(*(env[x] for x in case.xs))
    _close(out, evaluate(case.y, env), f"generated code of {case.y}")


def test_pickle_gives_the_interned_node(registry_case):
    case = registry_case
    case.check()
    g = sg.grad(sg.sum(case.y), list(case.xs)) if REGISTRY[case.op].vjp else []
    for e in [case.y, *g]:
        assert pickle.loads(pickle.dumps(e)) is e


def test_register_refuses_an_incomplete_op():
    with pytest.raises(UnsupportedError, match="print, numpy"):
        register(Op("half_declared", shape=lambda a, p: a[0].shape))
    with pytest.raises(UnsupportedError, match="vjp"):
        register(Op("no_derivative", shape=lambda a, p: a[0].shape, print=lambda n, P: "",
                    numpy=lambda n, v, s: v[0], cases=lambda: []))
    assert "half_declared" not in REGISTRY and "no_derivative" not in REGISTRY
