"""simplify() soundness: over every registry case expression and its unsimplified first and
second derivatives, plus targeted witnesses, simplification keeps the value and the shape and
is idempotent; and every rule in the table fires somewhere (a rule never seen at work is dead
or shadowed, and an untested rule may be unsound)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from symgrad.grad import vjp
from symgrad.node import substitute
from symgrad.numeric import evaluate
from symgrad.ops import api as sg
from symgrad.ops.core import number, variable
from symgrad.simplify import FIRED, FIRED_AT, rules, simplify
from symgrad.testing import random_env, sample

RTOL = 1e-9


# expression -> (simplified, rule names fired, (op, rule) pairs fired)
_SIMPLIFIED: dict = {}


def simplified(e):
    """simplify(e), memoized, with the rules that fired doing it."""
    if e not in _SIMPLIFIED:
        names, pairs = Counter(FIRED), Counter(FIRED_AT)
        s = simplify(e)
        _SIMPLIFIED[e] = (s, Counter(FIRED) - names, Counter(FIRED_AT) - pairs)
    return _SIMPLIFIED[e]


def check_sound(e, env: dict, what: str = "") -> None:
    """simplify(e) has e's shape and value at env and is a fixed point of simplify."""
    s = simplified(e)[0]
    label = f"{what}{e}  ->  {s}"
    assert s.shape == e.shape, f"{label}: shape {s.shape}, was {e.shape}"
    before, after = evaluate([e, s], env)
    assert before.shape == e.shape and after.shape == s.shape, f"{label}: evaluated shapes"
    assert np.all(np.isfinite(before)), f"{label}: the original is not finite here: {before}"
    scale = max(1.0, float(np.max(np.abs(before), initial=0.0)))
    err = float(np.max(np.abs(after - before), initial=0.0))
    assert err <= RTOL * scale, f"{label}: value changed by {err:.3e}\n{before}\n{after}"
    again = simplify(s)
    assert again is s, f"{label}: not idempotent, simplifies again to {again}"


# ---- the corpus: registry case expressions and their raw derivatives -------------------------
def corpus(case) -> tuple[list, dict]:
    """[y, raw d<U,y>/dx for each x, raw d<V_i, g_i>/dx for each i and x] and the values."""
    case.check()
    rng = case.rng("rules")
    env = case.env(rng)
    u = variable("U", *case.y.shape)
    env[u] = sample(u.shape, "any", rng)
    first = vjp(case.y, list(case.xs), u, simplify=False)
    exprs = [case.y, *first]
    op = case.y.op
    if (op.linear or op.bilinear) and case.xs:  # the mechanism every linear op takes part in
        exprs.append(substitute(case.y, {case.xs[0]: 2 * case.xs[0]}))  # op(2 x) = 2 op(x)
    for i, g in enumerate(first):
        v = variable(f"V{i}", *g.shape)
        env[v] = sample(v.shape, "any", rng)
        exprs += vjp(g, list(case.xs), v, simplify=False)
    return exprs, env


def test_simplify_sound_on_registry_case(registry_case):
    exprs, env = corpus(registry_case)
    for k, e in enumerate(exprs):
        check_sound(e, env, f"[{k}] ")


# ---- witnesses: one small expression per rule (and per op that carries the rule) -------------
A, B = variable("A", 3, 4), variable("B", 4, 2)
X, D = variable("X", 3, 3), variable("D", 2, 2)
a, b, c = variable("a", 4), variable("b", 3), variable("c", 3)
col, row = variable("col", 3, 1), variable("row", 1, 4)
s = variable("s")
P, Q, C, v12 = variable("P", 2, 3), variable("Q", 3, 2), variable("C", 6, 2), variable("v", 12)
Ysx, yoh = variable("Y", 3, 4, kind="simplex"), variable("y", 4, kind="onehot")

# (op, rule, build): the rule of that op must fire when simplifying build(). Built lazily, so an
# API change fails one witness, not the module.
_T, _M, _N = sg.tensor("T", 2, 3, 4), sg.matrix("M", 4, 5), sg.matrix("N", 5, 6)
_P3, _R, _A5 = sg.matrix("P3", 3, 3), sg.matrix("R", 2, 4), sg.tensor("A5", 5, 1, 3)
WITNESSES = [
    ("einsum", "einsum-delta", lambda: sg.einsum("ij,bjk->bik", sg.eye(3), _T)),
    ("einsum", "einsum-of-einsum",
     lambda: sg.einsum("bij,jk->bik", sg.einsum("bil,lj->bij", _T, _M), _N)),
    ("einsum", "einsum-delta", lambda: sg.einsum("ij,ij,bjk->bk", sg.eye(3), _P3, _T)),
    ("einsum", "einsum-delta", lambda: sg.einsum("ii,bik->bk", sg.eye(3), _T)),
    ("einsum", "einsum-delta", lambda: sg.einsum("ij,bjk->bijk", sg.eye(3), _T)),
    ("einsum", "einsum-ones", lambda: sg.einsum("i,j,bjk->bk", sg.ones(5), sg.ones(3), _T)),
    ("einsum", "einsum-ones", lambda: sg.einsum("i,bjk->bijk", sg.ones(5), _T)),
    ("einsum", "einsum-ones", lambda: sg.einsum("ij,k->ijk", sg.ones(2, 3), sg.ones(4))),
    ("einsum", "einsum-of-transpose", lambda: sg.einsum("ij,bjk->bik", sg.transpose(_P3), _T)),
    ("einsum", "einsum-of-transpose",
     lambda: sg.einsum("bji,jk->bik", sg.transpose(_T, (1, 2, 0)), _M)),
    ("mul", "hadamard-into-einsum",
     lambda: sg.einsum("ij,bk->bijk", sg.eye(3), _R) * A),
    ("mul", "hadamard-into-einsum", lambda: _A5 * sg.reshape(
        sg.einsum("ij,k->ikj", sg.eye(3), sg.sum_(_R, 1)), (3, 1, 2, 3))),
    ("sum", "sum-of-einsum", lambda: sg.sum_(sg.einsum("bij,jk->bik", _T, _M), (0, 2))),
    ("sum", "sum-of-einsum",
     lambda: sg.sum_(sg.einsum("bij,jk->bik", _T, _M), 1, keepdims=True)),
    ("permute", "permute-compose", lambda: sg.transpose(sg.transpose(_T, (1, 0, 2)), (2, 0, 1))),
    ("regroup", "reshape-compose", lambda: sg.reshape(sg.reshape(_T, (6, 4)), (2, 12))),
    ("permute", "pull-scalar", lambda: sg.transpose(2 * _T, (1, 0, 2))),
    ("regroup", "pull-scalar", lambda: sg.reshape(2 * _T, (6, 4))),
    ("transpose", "pull-scalar", lambda: sg.transpose(2 * A)),
    ("transpose", "transpose-involution", lambda: sg.transpose(sg.transpose(A))),
    ("transpose", "transpose-product", lambda: sg.transpose(A @ B)),
    ("transpose", "transpose-product", lambda: sg.transpose(sg.outer(b, a))),
    ("transpose", "transpose-constant", lambda: sg.transpose(sg.ones(3, 4))),
    ("transpose", "transpose-constant", lambda: sg.transpose(sg.zeros(3, 4))),
    ("transpose", "transpose-constant", lambda: sg.transpose(sg.eye(3))),
    ("transpose", "transpose-symmetric", lambda: sg.transpose(sg.diag(b))),
    ("transpose", "transpose-symmetric", lambda: sg.transpose(sg.inv(sg.transpose(A) @ A))),
    ("transpose", "transpose-symmetric",
     lambda: sg.transpose(sg.inv(A @ (sg.diag(a) @ sg.transpose(A))))),
    ("transpose", "transpose-symmetric", lambda: sg.transpose(sg.exp(sg.outer(a, a)))),
    ("transpose", "involution-sum", lambda: sg.transpose(sg.transpose(A) + 2 * sg.ones(4, 3))),
    ("transpose", "involution-sum", lambda: sg.transpose(X - sg.transpose(X))),
    ("transpose", "transpose-kron", lambda: sg.transpose(sg.kron(P, Q))),
    ("transpose", "transpose-kron", lambda: sg.transpose(sg.commutation(2, 3))),
    ("reshape", "pull-scalar", lambda: sg.reshape(2 * a, (1, 4))),
    ("reshape", "reshape-compose", lambda: sg.reshape(sg.sum_(A, 1, keepdims=True), (3,))),
    ("reshape", "reshape-compose", lambda: sg.reshape(sg.reshape(a, (1, 4)), (4, 1))),
    ("reshape", "reshape-compose", lambda: sg.reshape(sg.ones(4), (1, 4))),
    ("reshape", "reshape-compose", lambda: sg.reshape(sg.zeros(4), (4, 1))),
    ("broadcast_to", "pull-scalar", lambda: sg.broadcast_to(2 * a, (3, 4))),
    ("broadcast_to", "broadcast-constant", lambda: sg.broadcast_to(sg.ones(4), (3, 4))),
    ("broadcast_to", "broadcast-constant", lambda: sg.broadcast_to(sg.zeros(1, 4), (3, 4))),
    ("broadcast_to", "broadcast-constant", lambda: sg.broadcast_to(number(0), (3, 4))),
    ("broadcast_to", "broadcast-constant",
     lambda: sg.broadcast_to(sg.broadcast_to(a, (1, 4)), (3, 4))),
    ("sum_to", "pull-scalar", lambda: sg.sum_to(2 * A, (4,))),
    ("sum_to", "sum_to-as-sum", lambda: sg.sum_to(A, (4,))),
    ("sum_to", "sum_to-as-sum", lambda: sg.sum_to(A, (3, 1))),
    ("add", "arith-normal-form", lambda: A + A),
    ("sub", "arith-normal-form", lambda: A - A),
    ("neg", "arith-normal-form", lambda: sg.neg(sg.neg(A))),
    ("neg", "arith-normal-form", lambda: -(A - 2 * A)),
    ("mul", "arith-normal-form", lambda: A * A),
    ("div", "arith-normal-form", lambda: A / A),
    ("pow", "arith-normal-form", lambda: (A ** 2) ** 3),
    ("div", "logistic-quotient", lambda: sg.exp(A) / (1 + sg.exp(A))),
    ("div", "logistic-quotient", lambda: b / (1 + sg.exp(-c))),
    ("div", "logistic-quotient", lambda: b * sg.exp(-c) / (1 + sg.exp(-c)) ** 2),
    ("mul", "hadamard-cancel", lambda: sg.sigmoid(b) * (1 - sg.sigmoid(b))
     * ((1 - c) / (1 - sg.sigmoid(b)) - c / sg.sigmoid(b))),
    ("div", "hadamard-cancel", lambda: sg.exp(b) * (c / sg.exp(b) + 1) / sg.tanh(c)),
    ("mul", "logistic-product", lambda: sg.exp(b) * (1 - sg.sigmoid(b))),
    ("mul", "logistic-product", lambda: c * sg.exp(-b) * sg.sigmoid(b)),
    ("sub", "collect-expanded", lambda: (1 - c) * sg.sigmoid(b) - c * (1 - sg.sigmoid(b))),
    ("add", "collect-expanded", lambda: (1 + c) * b + c * (1 - b)),
    ("log", "log-softplus", lambda: sg.log(1 + sg.exp(A))),
    ("sigmoid", "sigmoid-odd", lambda: sg.sigmoid(-A)),
    ("sigmoid", "sigmoid-odd", lambda: sg.sigmoid(-2 * s)),
    ("matmul", "pull-scalar", lambda: (2 * A) @ B),
    ("matmul", "matmul-zero", lambda: sg.zeros(3, 4) @ B),
    ("matmul", "matmul-identity", lambda: A @ sg.eye(4)),
    ("matmul", "matmul-identity", lambda: sg.eye(3) @ A),
    ("matmul", "ones-inner-product", lambda: sg.ones(4) @ sg.ones(4)),
    ("matmul", "ones-inner-product", lambda: sg.ones(3, 1) @ sg.ones(1, 4)),
    ("matmul", "ones-as-sum", lambda: A @ sg.ones(4)),
    ("matmul", "ones-as-sum", lambda: sg.ones(3) @ A),
    ("matmul", "ones-as-sum", lambda: A @ sg.ones(4, 1)),
    ("matmul", "ones-as-sum", lambda: sg.ones(1, 3) @ A),
    ("matmul", "ones-as-broadcast", lambda: col @ sg.ones(1, 4)),
    ("matmul", "ones-as-broadcast", lambda: sg.ones(3, 1) @ row),
    ("matmul", "kron-mixed-product", lambda: sg.kron(P, Q) @ sg.kron(Q, P)),
    ("matmul", "kron-mixed-product", lambda: sg.kron(P, Q) @ (sg.kron(Q, P) @ C)),
    ("matmul", "matmul-sandwich", lambda: (sg.transpose(A) @ X) @ A),
    ("matmul", "matmul-sandwich", lambda: (B @ D) @ sg.transpose(B)),
    ("matmul", "commutation-rules", lambda: sg.commutation(3, 2) @ sg.commutation(2, 3)),
    ("matmul", "commutation-rules", lambda: sg.commutation(3, 2) @ sg.kron(P, Q)),
    ("outer", "pull-scalar", lambda: sg.outer(2 * b, a)),
    ("outer", "outer-zero", lambda: sg.outer(sg.zeros(3), a)),
    ("trace", "pull-scalar", lambda: sg.trace(2 * X)),
    ("trace", "trace-constant", lambda: sg.trace(sg.eye(3))),
    ("trace", "trace-constant", lambda: sg.trace(sg.zeros(3, 3))),
    ("trace", "trace-transpose", lambda: sg.trace(sg.transpose(X))),
    ("inv", "inverse-rules", lambda: sg.inv(sg.inv(X))),
    ("inv", "inverse-rules", lambda: sg.inv(sg.transpose(X))),
    ("inv", "inverse-rules", lambda: sg.inv(sg.eye(3))),
    ("diag", "pull-scalar", lambda: sg.diag(2 * b)),
    ("diag", "pull-scalar", lambda: sg.diag(2 * X)),
    ("kron", "pull-scalar", lambda: sg.kron(2 * P, Q)),
    ("kron", "kron-zero", lambda: sg.kron(sg.zeros(2, 2), Q)),
    ("kron", "kron-constant", lambda: sg.kron(sg.eye(2), sg.eye(3))),
    ("kron", "kron-unit", lambda: sg.kron(P, sg.ones(1, 1))),
    ("kron", "kron-unit", lambda: sg.kron(sg.eye(1), Q)),
    ("kron", "kron-unit", lambda: sg.kron(a, sg.ones(1))),
    ("kron", "kron-constant", lambda: sg.kron(sg.ones(2, 2), sg.ones(1, 3))),
    ("vec", "pull-scalar", lambda: sg.vec(2 * A)),
    ("vec", "vec-rules", lambda: sg.vec(sg.unvec(v12, (3, 4)))),
    ("vec", "vec-rules", lambda: sg.vec(col)),
    ("unvec", "pull-scalar", lambda: sg.unvec(2 * v12, (3, 4))),
    ("unvec", "unvec-rules", lambda: sg.unvec(sg.vec(A), (3, 4))),
    ("unvec", "unvec-rules", lambda: sg.unvec(b, (1, 3))),
    ("sum", "pull-scalar", lambda: sg.sum_(2 * A)),
    ("sum", "sum-unit-axes", lambda: sg.sum_(row, 0)),
    ("sum", "sum-unit-axes", lambda: sg.sum_(col, 1, keepdims=True)),
    ("sum", "sum-constant", lambda: sg.sum_(sg.ones(3, 4))),
    ("sum", "sum-constant", lambda: sg.sum_(sg.zeros(3, 4), 0)),
    ("sum", "sum-constant", lambda: sg.sum_(sg.broadcast_to(s, (3, 4)), 1)),
    ("sum", "sum-simplex-rows", lambda: sg.sum_(Ysx, 1)),
    ("sum", "sum-simplex-rows", lambda: sg.sum_(sg.sum_(Ysx, 0, keepdims=True), 1)),
    ("sum", "sum-simplex-rows", lambda: sg.sum_(yoh)),
    ("mul", "arith-normal-form", lambda: yoh * yoh),
    ("sum", "sum-broadcast-factor", lambda: sg.sum_(A * a, 0)),
    ("sum", "sum-broadcast-factor", lambda: sg.sum_(A / col ** 2, 1)),
    ("sum", "sum-broadcast-factor", lambda: sg.sum_(sg.exp(A) * col, 1, keepdims=True)),
    ("sum", "sum-broadcast-factor", lambda: sg.sum_(sg.broadcast_to(a, (3, 4)), 0)),
    ("sum", "sum-of-centered", lambda: sg.sum_(A - sg.mean(A, 0), 0)),
    ("sum", "sum-of-centered", lambda: sg.sum_(A - sg.mean(A, 1, keepdims=True), 1)),
    ("sum", "sum-of-centered", lambda: sg.sum_(A + sg.sum_(A, 0), 0)),
    ("sum", "sum-of-centered", lambda: sg.sum_((A - sg.mean(A, 0)) @ B, 0)),
    ("sum", "sum-of-centered", lambda: sg.sum_(sg.outer((A - sg.mean(A, 0)) @ a, a), 0)),
    ("sum", "sum-of-transpose", lambda: sg.sum_(sg.transpose(A), 0)),
    ("sum", "sum-of-transpose", lambda: sg.sum_(sg.transpose(A), 1, keepdims=True)),
    ("sum", "sum-of-transpose", lambda: sg.sum_(sg.transpose(A))),
    ("sum", "sum-of-sum", lambda: sg.sum_(sg.sum_(A, 0, keepdims=True), 1, keepdims=True)),
]


@pytest.mark.parametrize(
    "op,rule,build", WITNESSES, ids=[f"{o}-{r}-{k}" for k, (o, r, _) in enumerate(WITNESSES)]
)
def test_witness(op, rule, build):
    expr = build()
    env = random_env([expr], {}, np.random.default_rng(7))
    check_sound(expr, env)
    _, names, pairs = simplified(expr)
    assert rule in names and (op, rule) in pairs, (
        f"{expr} simplified to {simplified(expr)[0]} without the {op} rule {rule!r} "
        f"(fired: {sorted(pairs)})"
    )


def test_every_rule_fires(all_cases):
    """Every (op, rule) of the table fires on the corpus or on a witness."""
    fired_names: Counter = Counter()
    fired_pairs: Counter = Counter()
    exprs = [e for case in all_cases if case.error is None for e in corpus(case)[0]]
    for _, _, build in WITNESSES:
        try:
            exprs.append(build())
        except Exception:  # noqa: BLE001 -- test_witness reports it
            continue
    for e in exprs:
        _, names, pairs = simplified(e)
        fired_names += names
        fired_pairs += pairs
    table = [(op.name, name) for op, name in rules()]
    assert table, "simplify.rules() lists no rules"
    dead_names = sorted({name for _, name in table} - set(fired_names))
    assert not dead_names, f"rules that never fired: {dead_names}"
    dead = sorted(set(table) - set(fired_pairs))
    assert not dead, f"(op, rule) pairs that never fired: {dead}"
    unknown = sorted({w[:2] for w in WITNESSES} - set(table))
    assert not unknown, f"witnesses name rules the table does not have: {unknown}"
