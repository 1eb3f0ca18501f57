"""Random tensor expressions of up to four axes (strategies.tensor_expressions): gradients,
Jacobians and Hessians against central finite differences; every result prints (index
notation) and its generated code matches the reference evaluator."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from strategies import ci_examples, numeric_point, seeds, tensor_expressions

import symgrad as sg
from symgrad.numeric import evaluate, variables
from symgrad.ops.core import variable
from symgrad.testing import numeric_grad

TOL = 1e-5


def _fd_jacobian(y, x, env, sizes) -> np.ndarray:
    """dy/dx by central differences, one evaluation pair per entry of x."""
    work = dict(env)
    base = work[x].copy()
    out = np.zeros(np.shape(evaluate(y, work, sizes)) + base.shape)
    for at in np.ndindex(base.shape):
        for sign in (1, -1):
            v = base.copy()
            v[at] += sign * 1e-6
            work[x] = v
            out[(...,) + at] += sign * np.asarray(evaluate(y, work, sizes)) / 2e-6
    work[x] = base
    return out


def _close(a, b, what: str) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, expected {b.shape}"
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    err = float(np.max(np.abs(a - b), initial=0.0))
    assert err <= TOL * scale, f"{what}: off by {err:.3e}"


@ci_examples(30)
@given(tensor_expressions(), seeds())
def test_gradients_of_random_tensor_expressions(e, seed):
    U = variable("U", *e.shape)
    L = sg.sum(U * e)
    xs = variables(e)
    gs = sg.grad(L, xs)
    sizes, env = numeric_point([L], seed)
    for x, g in zip(xs, gs):
        def objective():
            return float(evaluate(L, env, sizes))
        _close(evaluate(g, env, sizes), numeric_grad(objective, env[x], 1e-6), f"d/d{x}")
    assert sg.latex(gs) and [str(g) for g in gs]
    f = sg.lambdify(gs, [*variables([L, *gs])])
    for out, ref in zip(f(*(env[v] for v in variables([L, *gs]))), evaluate(gs, env, sizes)):
        _close(out, ref, "generated code")


@ci_examples(15)
@given(tensor_expressions(max_depth=2), seeds())
def test_jacobians_of_random_tensor_expressions(e, seed):
    x = variables(e)[0]
    J = sg.jacobian(e, x)
    assert J.shape == e.shape + x.shape
    sizes, env = numeric_point([e], seed)
    _close(evaluate(J, env, sizes), _fd_jacobian(e, x, env, sizes), f"J w.r.t. {x}")
    assert sg.latex(J)


@ci_examples(10)
@given(tensor_expressions(max_depth=2), seeds())
def test_hessians_of_random_tensor_expressions(e, seed):
    L = sg.sum(sg.tanh(e) * e)
    x = variables(e)[-1]
    H = sg.hessian(L, x)
    assert H.shape == x.shape + x.shape
    sizes, env = numeric_point([L], seed)
    g = sg.grad(L, x)
    _close(evaluate(H, env, sizes), _fd_jacobian(g, x, env, sizes), f"H w.r.t. {x}")
