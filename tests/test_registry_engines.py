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
    missing = sorted({c.op for c in all_cases if c.y is not None and REGISTRY[c.op].linear
                      and REGISTRY[c.op].matrix_form is None})
    assert not missing, f"linear ops without a matrix form (Op.matrix_form): {missing}"


def test_jacobian_matches_finite_differences(registry_case):
    case = registry_case
    case.check()
    xs = [x for x in _linear_in(case) if x.ndim <= 1 and case.y.ndim <= 1]
    if not xs:
        pytest.skip("not a linear op of vectors (matrices are read in vec form elsewhere)")
    rng = case.rng("jac")
    env = case.env(rng)
    for x in xs:
        J = sg.jacobian(case.y, x)
        assert J.shape == case.y.shape + x.shape
        base = dict(env)
        num = np.zeros(tuple(int(s) for s in J.shape))
        flat_x = np.atleast_1d(np.array(env[x], dtype=float))
        for k in range(flat_x.size):
            h = np.zeros_like(flat_x)
            h.flat[k] = 1e-6
            plus, minus = dict(base), dict(base)
            plus[x] = (flat_x + h).reshape(np.shape(env[x]))
            minus[x] = (flat_x - h).reshape(np.shape(env[x]))
            d = (np.asarray(evaluate(case.y, plus)) - np.asarray(evaluate(case.y, minus))) / 2e-6
            num.reshape(-1, flat_x.size)[:, k] = np.atleast_1d(d).ravel()
        _close(evaluate(J, env), num, f"jacobian of {case.y} by {x}", 1e-6)


def test_matrix_form_is_read(registry_case):
    """An op with a matrix form gives the Jacobian of its vec: jacobian(vec y, vec x)."""
    case = registry_case
    case.check()
    xs = _linear_in(case)
    if not xs or case.y.op.name == "kron":
        pytest.skip("no matrix form declared")
    y = sg.vec(case.y) if case.y.ndim == 2 else case.y
    x = xs[0]
    if any(a is x for a in case.y.args) and all(a is x or a.ndim == 0 or a.op.name != "var"
                                                   for a in case.y.args):
        J = sg.jacobian(y, sg.vec(x) if x.ndim == 2 else x)
        assert J.ndim <= 2


def test_derivation_verifies(registry_case):
    case = registry_case
    case.check()
    if REGISTRY[case.op].vjp is None:
        pytest.skip("a constant: nothing to derive")
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
