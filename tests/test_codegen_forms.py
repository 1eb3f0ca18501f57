"""The generated source is what an expert writes, and bad input gets a clear symgrad error.

Each expert form is checked on the text and on the values (against sg.evaluate).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.node import Node
from symgrad.numeric import evaluate, variables
from symgrad.op import Op

n, m, k, N, d, h, c = sg.dims("n m k N d h c")
A, G = sg.matrix("A", n, m), sg.matrix("G", n, m)
S, B = sg.matrix("S", n, n), sg.matrix("B", n, m)
v, x = sg.vector("v", n), sg.vector("x", m)
rng = np.random.default_rng(0)
VALUES = {"A": rng.normal(size=(3, 4)), "G": rng.normal(size=(3, 4)), "B": rng.normal(size=(3, 4)),
          "S": 3 * np.eye(3) + rng.normal(size=(3, 3)), "v": rng.normal(size=3),
          "x": rng.normal(size=4)}


def body(src: str) -> str:
    """The code after the docstring (the docstring quotes the formulas)."""
    return src.split('"""')[2]


def check(expr, args, *present: str, absent: tuple[str, ...] = ()) -> str:
    """The source contains `present` and none of `absent`; its value is evaluate()'s."""
    f = sg.lambdify([expr], args)
    code = body(f.source)
    for s in present:
        assert s in code, f"{s!r} not in\n{f.source}"
    for s in absent:
        assert s not in code, f"{s!r} in\n{f.source}"
    got = f(*[VALUES[a.params[0]] for a in args])[0]
    np.testing.assert_allclose(got, evaluate(expr, VALUES), rtol=1e-12, atol=1e-12)
    return code


# ---- expert forms --------------------------------------------------------------------------------
def test_ones_vectors_are_sums():
    check(G @ sg.ones(m), [G], "G.sum(axis=1)", absent=("ones", "@"))
    check(sg.ones(n) @ G, [G], "G.sum(axis=0)", absent=("ones", "@"))
    check(G @ sg.ones(m, 1), [G], "G.sum(axis=1, keepdims=True)", absent=("ones",))
    check(sg.ones(1, n) @ G, [G], "G.sum(axis=0, keepdims=True)", absent=("ones",))
    check(sg.ones(n, 1) @ sg.ones(1, n) @ G, [G], absent=("ones",))  # nor ones blocks
    check(G @ sg.ones(m, 1) @ sg.ones(1, m), [G], absent=("ones",))


def test_broadcasts_are_implicit():
    b = sg.matrix("b", n, 1)
    W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
    f = sg.lambdify([sg.explicit(W @ X + b)], [W, X, b])  # W X + b 1ᵀ, written out
    assert body(f.source).strip().splitlines()[-2].endswith("= W @ X + b")
    assert "ones" not in body(f.source) and "broadcast_to" not in body(f.source)
    check(A * sg.broadcast_to(sg.reshape(x, (1, m)), (n, m)), [A, x], "A * x",
          absent=("broadcast_to", "None"))
    check(sg.broadcast_to(sg.reshape(v, (n, 1)), (n, m)) - A, [A, v], "v[:, None] - A",
          absent=("broadcast_to",))


def test_diag_products_scale_rows_and_columns():
    check(sg.diag(v) @ A, [v, A], "v[:, None] * A", absent=("diag",))
    check(A @ sg.diag(x), [A, x], "A * x", absent=("diag",))
    check(sg.diag(v) @ v, [v], "v * v", absent=("diag",))


def test_transposes_are_views():
    code = check(A.T @ G, [A, G], "out = A.T @ G", absent=("transpose", "swapaxes"))
    assert [ln.strip() for ln in code.strip().splitlines()][-2:] == ["out = A.T @ G", "return out,"]


def test_inverse_times_matrix_is_a_solve():
    check(sg.inv(S) @ B, [S, B], "np.linalg.solve(S, B)", absent=("inv",))
    check(sg.inv(S).T @ v, [S, v], "np.linalg.solve(S.T, v)", absent=("inv",))
    check(B.T @ sg.inv(S), [S, B], "np.linalg.solve(S.T, B).T", absent=("inv(",))
    check(v @ sg.inv(S), [S, v], "np.linalg.solve(S.T, v)", absent=("inv(",))
    # The inverse is needed twice: compute it once and multiply (cheaper than two solves).
    code = body(sg.codegen([sg.inv(S) @ B, sg.inv(S) @ v], [S, B, v]))
    assert code.count("np.linalg.inv(S)") == 1 and "solve" not in code


def test_logdet_uses_slogdet():
    check(sg.logdet(S), [S], "np.linalg.slogdet(S)", absent=("np.log(", "np.linalg.det"))
    # NaN where det <= 0, as evaluate: log det is only defined there.
    f = sg.lambdify(sg.logdet(S), [S])
    assert np.isnan(f(-np.eye(3))) and np.isnan(evaluate(sg.logdet(S), {S: -np.eye(3)}))


def test_softmax_and_logsumexp_are_max_shifted():
    code = check(sg.softmax(A, axis=1), [A], "A.max(axis=1, keepdims=True)", "np.exp(A - max_A)")
    assert code.count("np.exp") == 1
    check(sg.logsumexp(A, axis=0), [A], "A.max(axis=0, keepdims=True)")
    # softmax and logsumexp of the same logits share the shift, the exponentials and the sum.
    code = body(sg.codegen([sg.softmax(A, axis=1), sg.logsumexp(A, axis=1, keepdims=True)], [A]))
    assert code.count("np.exp") == 1 and code.count(".max(") == 1 and code.count(".sum(") == 1


def test_log_of_softmax_and_sigmoid_are_stable():
    check(sg.log(sg.softmax(A, axis=1)), [A], absent=("np.log(exp_A / ",))
    big = {"A": 1e3 * VALUES["A"]}
    assert np.all(np.isfinite(sg.lambdify(sg.log(sg.softmax(A, axis=1)), [A])(big["A"])))
    f = sg.lambdify(sg.log(sg.sigmoid(A)), [A])
    np.testing.assert_allclose(f(-800 * np.ones((2, 2))), -800 * np.ones((2, 2)), rtol=1e-12)


def test_no_identity_or_zero_matrices_built():
    check(sg.eye(n) @ A, [A], absent=("eye", "@"))
    check(A @ sg.eye(m) @ x, [A, x], "A @ x", absent=("eye",))
    check((2 * sg.eye(n)) @ A, [A], "2 * A", absent=("eye",))
    check(sg.trace(A @ G.T), [A, G], "(A * G).sum()", absent=("trace", "@"))
    # A zero gradient is a zeros array only where it is returned.
    code = body(sg.codegen(sg.grad(sg.sum(A), [A, G]), [A, G]))
    assert code.count("np.zeros((n, m), dtype=dtype)") == 1 and "np.ones" in code
    f = sg.lambdify(sg.zeros(n, m) @ x + A @ x, [A, x])
    assert "zeros" not in body(f.source) or "@ x" in body(f.source)


def test_mlp_source_reads_like_hand_written_backprop():
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
    W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
    W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)
    H1 = sg.name("H1", sg.tanh(X @ W1 + b1))
    Z2 = sg.name("Z2", H1 @ W2 + b2)
    L = sg.mean((Z2 - Y) ** 2)
    grads = sg.grad(L, [W1, b1, W2, b2])
    src = sg.codegen([L, *grads], [W1, b1, W2, b2, X, Y], name="loss_and_grad",
                     names=["L", "dW1", "db1", "dW2", "db2"])
    doc, code = src.split('"""')[1], body(src)
    lines = [ln.strip() for ln in code.strip().splitlines()]
    # Sizes bound from the arguments, shapes asserted, then one line per shared value.
    assert lines[:3] == ["d, h = W1.shape", "c = W2.shape[1]", "N = X.shape[0]"]
    assert "assert X.shape == (N, d)" in code
    assert "H1 = np.tanh(X @ W1 + b1)" in lines and "Z2 = H1 @ W2 + b2" in lines
    assert "Z2_minus_Y = Z2 - Y" in lines  # the residual, used four times, computed once
    assert code.count("Z2 - Y") == 1 and code.count("np.tanh") == 1
    assert "db2 = (2/(N*c)) * Z2_minus_Y.sum(axis=0)" in lines
    assert "dW2 = (2/(N*c)) * (H1.T @ Z2_minus_Y)" in lines
    assert lines[-1] == "return L, dW1, db1, dW2, db2"
    assert code.count("@") == 5  # two forward products, three backward: nothing repeated
    # The docstring gives the formulas in Unicode.
    assert "dW2 = (2/(N·c)) H₁ᵀ (Z₂ - Y)" in doc and "H1 = tanh(X W₁ + 1_N b₁ᵀ)" in doc


def test_torch_and_jax_spellings():
    y = [sg.sum(A, axis=0), sg.softmax(A, axis=1), sg.inv(S) @ B, sg.sigmoid(A), A.T @ G]
    torch_src = body(sg.codegen(y, [A, G, S, B], backend="torch"))
    assert "A.sum(dim=0)" in torch_src and "torch.softmax(A, dim=1)" in torch_src
    assert "torch.linalg.solve(S, B)" in torch_src and "torch.sigmoid(A)" in torch_src
    assert "A.T @ G" in torch_src and "np." not in torch_src
    jax_src = sg.codegen(y, [A, G, S, B], backend="jax")
    assert "import jax.numpy as jnp" in jax_src and "jax.nn.softmax(A, axis=1)" in jax_src
    assert "jnp.linalg.solve(S, B)" in jax_src


# ---- the function --------------------------------------------------------------------------------
def test_source_needs_nothing_from_symgrad():
    L = sg.sum(sg.tanh(A) * G)
    src = sg.codegen([L, sg.grad(L, A)], [A, G], name="loss_and_grad")
    assert "symgrad" not in body(src)
    assert src.splitlines()[0] == "import numpy as np"
    namespace: dict = {}
    exec(src, namespace)  # a fresh namespace: only what the source imports
    got = namespace["loss_and_grad"](VALUES["A"], VALUES["G"])
    want = evaluate([L, sg.grad(L, A)], VALUES)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_single_expression_and_lists():
    f = sg.lambdify(sg.sum(A), [A])
    assert np.isclose(f(VALUES["A"]), VALUES["A"].sum())  # one expression: one value
    f = sg.lambdify([sg.sum(A)], [A])
    assert isinstance(f(VALUES["A"]), tuple) and len(f(VALUES["A"])) == 1
    assert f.source == sg.codegen([sg.sum(A)], [A])
    assert "out = " in f.source
    f = sg.lambdify(sg.sum(A), [A])
    assert np.isclose(f([[1, 2], [3, 4]]), 10.0)  # lists are arrays; sizes bound from them


def test_shape_asserts_name_the_argument():
    f = sg.lambdify([A @ x], [A, x])
    with pytest.raises(AssertionError, match=r"x has shape \(5,\), expected \(m,\) = \(4,\)"):
        f(np.ones((3, 4)), np.ones(5))
    with pytest.raises((AssertionError, ValueError)):
        f(np.ones(3), np.ones(4))


def test_float32_stays_float32():
    L = sg.sum(sg.tanh(A @ x))
    f = sg.lambdify([L, *sg.grad(L, [A, x])], [A, x])
    out = f(VALUES["A"].astype(np.float32), VALUES["x"].astype(np.float32))
    assert all(np.asarray(o).dtype == np.float32 for o in out)


def test_names_are_valid_python():
    up = sg.grad(sg.name("f", A @ x), x)  # against the symbolic upstream dL/df
    src = sg.codegen([up], variables(up))
    assert "def generated(A, dL_df):" in src
    weird = sg.matrix("lambda", n, m)  # a keyword as a variable name
    f = sg.lambdify([weird * 2], [weird])
    assert "def generated(lambda_):" in f.source
    np.testing.assert_allclose(f(np.ones((2, 3)))[0], 2 * np.ones((2, 3)))
    named = body(sg.codegen([sg.name("f", sg.tanh(A)), sg.sum(A)], [A]))
    assert "f = np.tanh(A)" in named and "return f, out1" in named  # a named output: its name
    s = sg.scalar("sum")  # a builtin's name is not shadowed
    f = sg.lambdify([sg.sum(A) * s], [A, s])
    assert "sum_" in f.source and np.isclose(f(np.ones((2, 2)), 3.0)[0], 12.0)


# ---- errors --------------------------------------------------------------------------------------
def test_missing_argument_is_named():
    with pytest.raises(sg.SymgradError, match="need G, which is not in the arguments"):
        sg.codegen(A + G, [A])
    with pytest.raises(sg.SymgradError, match="dL/df"):
        sg.codegen(sg.grad(sg.name("f", A @ x), x), [A])


def test_bad_arguments():
    with pytest.raises(sg.SymgradError, match="must be variables"):
        sg.codegen(A, [A + G])
    with pytest.raises(sg.SymgradError, match="listed twice"):
        sg.codegen(A, [A, A])
    with pytest.raises(sg.SymgradError, match="unknown backend 'tensorflow'"):
        sg.codegen(A, [A], backend="tensorflow")
    with pytest.raises(sg.SymgradError, match="function name"):
        sg.codegen(A, [A], name="not a name")
    with pytest.raises(sg.SymgradError, match="names must be 2 Python identifiers"):
        sg.codegen([A, G], [A, G], names=["a"])
    with pytest.raises(sg.SymgradError, match="size k not fixed by any argument"):
        sg.codegen(A @ sg.ones(m, k), [A])  # k appears in no argument's shape


def test_op_without_code_form_is_a_clear_error():
    mystery = Op("mystery", shape=lambda args, params: args[0].shape)  # not registered
    with pytest.raises(sg.UnsupportedError, match="operator 'mystery' has no code form"):
        sg.codegen(Node(mystery, (A,)), [A])


def test_user_elementwise_function():
    import sympy

    t = sympy.Symbol("t")
    e = sg.elementwise("logcosh", sympy.log(sympy.cosh(t)), A)
    with pytest.raises(sg.UnsupportedError, match="logcosh"):
        sg.codegen(e, [A])  # cosh is not a symgrad op: said so, not guessed
    sq = sg.elementwise("softsq", sympy.log(1 + sympy.exp(t)) ** 2, A)
    check(sq, [A], "np.log(np.exp(A) + 1) ** 2")  # its definition, in the array module
    check(sg.grad(sg.sum(sq), A), [A])
