"""The printed formula is the value (issue 10): parse(latex(e)) evaluates to the value of e,
and latex(e) compiles, for every op of the registry, every broadcasting pair, random DAGs,
their gradients, Jacobians and Hessians; the issue's examples before/after."""

from __future__ import annotations

import numpy as np
import pytest
from faithful import HAS_PDFLATEX, compile_errors, display_error, reparse_error
from hypothesis import given
from strategies import M, N, ci_examples, objectives, seeds

import symgrad as sg
from symgrad.grad import vjp
from symgrad.numeric import variables
from symgrad.ops.core import variable

n, m, k = sg.dims("n m k")
PRINTED: list[str] = []  # every formula checked here, typeset together by test_all_compile
DISPLAYS: list[str] = []  # those of one result printed with named parts (an aligned block)


def faithful(e, seed: int = 0, env: dict | None = None, declare=None) -> None:
    tex = sg.latex(e)
    PRINTED.append(tex)
    if tex.startswith("\\begin{aligned}"):
        DISPLAYS.append(tex)
    err = reparse_error(e, seed, tex, env, declare)
    assert err is None, err


def shown(results, seed: int = 0, declare=None) -> None:
    """Several results displayed together (sg.latex of a list or dict: one aligned block,
    shared parts named once for all) read back by parse_display to their values."""
    PRINTED.append(sg.latex(results))
    err = display_error(results, seed, declare)
    assert err is None, err


# ---- the registry: every op, every declared case (broadcasting pairs included) -------------
def test_registry_case_prints_its_value(registry_case):
    case = registry_case
    case.check()
    env = case.env(case.rng("faithful"))
    faithful(case.y, env=env)
    u = variable("U", *case.y.shape)
    env[u] = np.random.default_rng(0).standard_normal(
        tuple(int(s) for s in case.y.shape))
    for g in vjp(case.y, list(case.xs), u):
        faithful(g, env=env)


# ---- random DAGs and their gradients (every construct of tests/strategies.py) ---------------

def test_parser_reads_softmax_col_of_a_vector():
    """softmax_col of a 1-D vector (a column) is over its entries, not over a row's unit axis."""
    faithful(sg.softmax(sg.ones(n, 1), axis=0))


def test_parser_reads_a_reduction_times_a_row():
    """logsumexp_row of a square A C is a column (only a reduction of each column may be read
    as a row): times 1ₖᵀ it is the outer product, not a row times a row."""
    A, C = sg.matrix("A", n, m), sg.matrix("C", m, n)
    faithful(sg.broadcast_to(sg.reshape(sg.logsumexp(A @ C, axis=1), (n, 1)), (n, k)))
    r = sg.matrix("r", 1, m)
    faithful(sg.logsumexp(sg.inv(C.T @ C + sg.eye(n)), axis=1, keepdims=True) @ (-1.5 * r))


def test_a_column_reduction_before_a_row_is_an_outer_product():
    """logsumexp_col(B) yᵀ: the column of an outer product (read as a row only where the
    column would not multiply, as in logsumexp_col(B) C)."""
    B, y = sg.matrix("B", n, m), sg.vector("y", m)
    faithful(sg.outer(sg.logsumexp(B, axis=0), 1 / (1 + y * y)))
    faithful(sg.logsumexp(B, axis=0) @ sg.matrix("C", m, n))


def test_an_elementwise_power_reads_its_operands_as_columns():
    """(1 + logsumexp_row(X))^{∘ v}: a kept (n, 1) base and a 1-D exponent are one column, as
    in ⊙ (NumPy would broadcast them to (n, n))."""
    A, C, c = sg.matrix("A", n, m), sg.matrix("C", m, n), sg.matrix("c", n, 1)
    X = sg.matrix("X", n, m)
    faithful((1 + sg.logsumexp(X, axis=1, keepdims=True)) ** (sg.softmax(A @ C, axis=0) @ c))
    faithful((1 + sg.exp(c)) ** sg.reshape(sg.tanh(sg.logsumexp(X, axis=1)), (n, 1)))


def test_a_broadcast_power_prints_its_operands_explicitly():
    """X^{∘ v} with a 1-D v broadcast along X's rows prints v as the matrix 1ₙ vᵀ (as ⊙ does):
    v alone, printed as a column, would be read as one."""
    B, C = sg.matrix("B", n, m), sg.matrix("C", m, n)
    v = sg.reshape(sg.sum(C @ B, axis=0, keepdims=True), (m,))
    assert sg.latex((1 + B * B) ** v).startswith(r"(1 + B \odot B)^{\circ \mathbf{1}_{n}")
    faithful((1 + B * B) ** v)
    faithful(sg.exp(v) ** (1 + B * B))


def test_a_column_where_a_function_needs_a_vector_is_that_vector():
    """diag of a declared n×1 column c (diag(c) as printed) is diag of its entries."""
    c, r = sg.matrix("c", n, 1), sg.matrix("r", 1, m)
    faithful(sg.trace(sg.diag(sg.reshape(c, (n,)))))
    faithful(sg.diag(sg.sigmoid(sg.reshape(r, (m,)))))
    with pytest.raises(sg.ShapeError):  # a matrix is not a vector
        sg.parse(r"\operatorname{diag}(B)", {"B": ("n", "m")})


def test_unit_shaped_factors_scale():
    """A (1,) factor is a number on paper: beside a (1,) one, a vector or a matrix it scales
    (it was 'two column vectors side by side' / 'a column cannot multiply C')."""
    C, y = sg.matrix("C", m, n), sg.vector("y", m)
    u = sg.sum(C @ sg.ones(n), axis=0, keepdims=True)  # (1,)
    faithful(sg.tanh(u) * sg.exp(u))
    faithful(sg.hessian(sg.sum(sg.exp(sg.tanh(y @ y)) * y), y))
    tex = r"\frac{(\mathbf{1}_{m}^{\top} C \mathbf{1}_{n})}{n} C"
    want = (u / n) * C
    got = sg.parse(tex, [C], shape=want.shape)
    env = {"C": np.arange(12.0).reshape(4, 3)}
    np.testing.assert_allclose(sg.evaluate(got, env), sg.evaluate(want, env))


def test_a_vector_beside_a_number_is_a_column():
    """1ₙ ⊙ (1 - 1ₙᵀ s) with a 1×1 right side: the column (n, 1), not NumPy's (1, n) row."""
    c, t = sg.matrix("c", n, 1), sg.scalar("t")
    faithful(sg.hessian(sg.sum(sg.exp(sg.tanh(sg.softmax(t + c, axis=0)))), t))
    e = sg.parse(r"\mathbf{1}_{n} \odot (1 - \mathbf{1}_{n}^{\top} c)", [c])
    assert e.shape == (n, 1)


def test_kronecker_factors_keep_their_orientation():
    """I ⊗ (yᵀ Bᵀ): the row it is written as (it was read as the column B y)."""
    B, y = sg.matrix("B", n, m), sg.vector("y", m)
    faithful(sg.kron(sg.eye(n), sg.reshape(y @ B.T, (1, n))))
    faithful(sg.kron(sg.reshape(y @ B.T, (1, n)), sg.eye(n)))


def test_a_vector_where_a_function_needs_a_matrix_is_its_column():
    """vec of an n×1 column prints vec(1ₙ): the 1-D text is read as the column it was."""
    A, C, x = sg.matrix("A", n, m), sg.matrix("C", m, n), sg.vector("x", n)
    faithful(sg.vec(sg.ones(n, 1)))
    faithful(sg.vec(sg.logsumexp(A @ C, axis=1, keepdims=True)) / sg.exp(sg.tanh(x)))


def test_a_function_of_a_row_is_a_row():
    """A 1-D part printed softmax(xᵀ D)ᵀ (the column of a row's softmax) and named in the
    display (M &= ...) is read as that column: diag(x) M (it was the (1, n) row, and
    'cannot matmul diag(x) and M')."""
    B, x = sg.matrix("B", n, m), sg.vector("x", n)
    row = sg.reshape(sg.logsumexp(B, axis=1), (1, n)) @ sg.diag(x)
    part = sg.reshape(sg.softmax(row, axis=None), (n,))
    e = sg.diag(x) @ part + part * sg.exp(part)
    assert sg.latex(e).startswith("\\begin{aligned}\nM &= \\operatorname{softmax}(")
    faithful(e)
    y = sg.parse(r"\tanh(x^\top A)^\top", {"x": ("n",), "A": ("n", "m")})
    A = sg.matrix("A", n, m)
    assert y.shape == (m,)
    env = {"x": np.array([0.5, -1.0]), "A": np.arange(6.0).reshape(2, 3) / 4}
    np.testing.assert_allclose(sg.evaluate(y, env), sg.evaluate(sg.tanh(A.T @ x), env))


def test_a_unit_factor_keeps_the_orientation_of_what_it_scales():
    """(yᵀ rᵀ) vᵀ C x, a (1,) factor before a row: the row vᵀ scaled, so it multiplies C from
    the left (it was 'a column cannot multiply C'); in a named part s &= ... as printed."""
    x, y, r = sg.vector("x", n), sg.vector("y", m), sg.matrix("r", 1, m)
    A, C = sg.matrix("A", n, m), sg.matrix("C", m, n)
    s = ((y @ r.T) @ sg.reshape(sg.ones(n) @ A, (1, m))) @ (C @ x)
    e = s * sg.tanh(s) + sg.exp(s)
    assert sg.latex(e).startswith("\\begin{aligned}\ns &= y^{\\top} r^{\\top}")
    faithful(e)
    tex = r"(y^{\top} r^{\top}) (A^{\top} \mathbf{1}_{n})^{\top} C x"
    got = sg.parse(tex, [x, y, r, A, C])
    want = ((r @ y) * (A.T @ sg.ones(n))) @ C @ x
    rng = np.random.default_rng(1)
    env = {"x": rng.standard_normal(2), "y": rng.standard_normal(3),
           "r": rng.standard_normal((1, 3)), "A": rng.standard_normal((2, 3)),
           "C": rng.standard_normal((3, 2))}
    assert got.shape == ()
    np.testing.assert_allclose(sg.evaluate(got, env), sg.evaluate(want, env))


def test_a_part_defined_as_a_row_is_used_as_a_row():
    """M &= (3 - logsumexp_row(B))ᵀ A, a (1, m) row whose kept column prints as a 1-D
    vector: the definition reads as the row it is written as, so 1ₘ M is an outer product
    and M y a scalar (they were 'two column vectors side by side')."""
    B, A, y = sg.matrix("B", n, m), sg.matrix("A", n, m), sg.vector("y", m)
    part = (3 - sg.logsumexp(B, axis=1, keepdims=True)).T @ A
    ones = sg.ones(m, 1)
    for e in (ones @ (0.5 * part) + 0.5 * (ones @ part).T, part @ y + sg.sum(part) * part):
        assert sg.latex(e).startswith("\\begin{aligned}\nM &= (3 - ")
        faithful(e)
    got = sg.parse(r"M = x^\top A \\ \mathbf{1}_{m} M + M^\top \mathbf{1}_{m}^\top",
                   {"x": ("n",), "A": ("n", "m")})
    assert got.shape == (m, m)


def test_long_printed_formulas_parse_back():
    """symgrad's own formulas run past 30,000 characters (unsimplified Hessians print 100,000
    and more): they parse back; the web server bounds untrusted input on its own."""
    x = sg.vector("x", n)
    e = x
    for k in range(1, 2500):
        e = e + sg.sin(x + k)
    assert len(sg.latex(e)) > 30_000
    faithful(e)


def test_a_reduction_over_a_unit_axis_prints_its_value():
    """softmax_row of a column is ones and logsumexp_row of it is itself: printed so, for the
    label would be read over the long axis of a text that reads as a 1-D vector (B 1ₘ)."""
    B, c = sg.matrix("B", n, m), sg.matrix("c", n, 1)
    col = sg.mean(B, axis=1, keepdims=True)
    assert sg.latex(sg.softmax(col, axis=1)) == r"\mathbf{1}_{n}"
    assert sg.latex(sg.logsumexp(c, axis=1)) == "c"
    for e in (sg.softmax(col, axis=1), sg.logsumexp(col, axis=1),
              sg.logsumexp(sg.logsumexp(col.T, axis=0, keepdims=True).T, axis=0),
              sg.softmax(sg.softmax(col, axis=1), axis=1) * c):
        faithful(e)


@ci_examples(40)
@given(objectives(), seeds())
def test_random_expressions_and_gradients_print_their_value(ey, seed):
    e, y = ey
    faithful(e, seed)
    xs = [v for v in variables(y) if v.params[2] == "var"]
    gs = sg.grad(y, xs)
    for g in gs:
        faithful(g, seed, declare=y)  # y's variables declare the sizes (1/n 1ₙ has none)
    together(gs, seed, y)


def together(results: list, seed: int, declare) -> None:
    """Several results in one display (sg.latex of a list: parts shared between them named
    once), each row read back by parse_display to its result's value."""
    PRINTED.append(sg.latex(results))
    err = display_error(results, seed, declare)
    assert err is None, err


# ---- Jacobians and Hessians ------------------------------------------------------------------
@ci_examples(20)
@given(objectives(shapes=((), (N,), (M,))), seeds())
def test_random_jacobians_and_hessians_print_their_value(ey, seed):
    """Jacobians of random expressions and Hessians of their objectives, where symgrad writes
    them in matrix notation (at most 2 axes)."""
    e, y = ey
    results = []
    for x in (v for v in variables(y) if v.params[2] == "var"):
        if e.ndim + x.ndim <= 2 and x in variables(e):
            results.append(sg.jacobian(e, x))
        if x.ndim <= 1:
            results.append(sg.hessian(y, x))
    for r in results:
        faithful(r, seed, declare=y)
    if results:
        together(results, seed, y)


def _jh_examples():
    x, w, b = sg.vector("x", n), sg.vector("w", n), sg.vector("b", m)
    A, W = sg.matrix("A", n, n), sg.matrix("W", m, n)
    X, y = sg.matrix("X", m, n), sg.vector("y", m, labels="pm1")
    z = y * (X @ w)
    return [
        sg.jacobian(sg.tanh(W @ x + b), x), sg.jacobian(sg.softmax(x), x),
        sg.jacobian(W @ x, x), sg.jacobian(sg.exp(x) * w, w),
        sg.hessian(x @ A @ x, x), sg.hessian(sg.sum(sg.exp(W @ x)), x),
        sg.hessian(sg.sum(sg.log(1 + sg.exp(-z))), w), sg.hessian(0.5 * (x @ x), x),
    ]


@pytest.mark.parametrize("i", range(len(_jh_examples())))
def test_jacobians_and_hessians_print_their_value(i):
    faithful(_jh_examples()[i], seed=i)


def test_display_of_several_results_reads_back():
    """sg.latex of a dict of gradients names their shared part once (M &= ...), and the rows
    ∂L/∂W read back, with that definition, to the gradients; so do the Jacobians and
    Hessians above shown together."""
    W, x, b = sg.matrix("W", m, n), sg.vector("x", n), sg.vector("b", m)
    L = sg.sum(sg.tanh(W @ x + b) ** 2)
    grads = dict(zip([W, x, b], sg.grad(L, [W, x, b])))
    assert sg.latex(grads).count("&=") == 4  # a named part, then the three gradients
    shown(grads)
    shown(_jh_examples())


# ---- the examples, before -> after ---------------------------------------------------
def test_vector_orientation_and_collected_terms():
    x, A = sg.vector("x", n), sg.matrix("A", m, n)
    g = sg.grad(x @ A.T @ A @ x, A)  # was x^{\top} A^{\top} x^{\top} + A x x^{\top}
    assert sg.latex(g) == r"2 A x x^{\top}"
    assert str(g) == "2 A x xᵀ"
    assert str(x @ A.T) == "A x" and sg.latex(x @ A.T) == "A x"  # was xᵀ Aᵀ, a row
    assert sg.simplify(x @ A.T) is A @ x
    y = sg.vector("y", m)
    assert sg.latex(sg.outer(A @ x, y)) == r"A x y^{\top}"
    assert sg.latex((x @ A.T) @ y) == r"x^{\top} A^{\top} y"
    for e in (g, x @ A.T, sg.outer(x @ A.T, y)):
        faithful(e)


def test_no_unit_ones_and_sized_zeros():
    c, r, x = sg.matrix("c", n, 1), sg.matrix("r", 1, m), sg.vector("x", n)
    assert sg.latex(sg.sum(r, axis=1)) == r"r \mathbf{1}_{m}"  # was r 1ₘ 1₁-style factors
    assert sg.latex(sg.sum(c, axis=1)) == "c"
    assert sg.latex(sg.sum(c)) == r"\mathbf{1}_{n}^{\top} c"
    assert r"\mathbf{1}_{1}" not in sg.latex(sg.mean(r) * r)
    assert sg.latex(sg.zeros(n, m)) == r"\mathbf{0}_{n \times m}"  # was \mathbf{0}
    assert sg.latex(sg.zeros(n)) == r"\mathbf{0}_{n}"
    assert str(sg.zeros(n, m)) == "0ₙₓₘ"
    for e in (sg.sum(r, axis=1), sg.sum(c, axis=1), sg.sum(c), sg.zeros(n) + x):
        faithful(e)


def test_numbers_print_as_written():
    n_ = sg.dims("d")
    X, w, y = sg.matrix("X", m, n), sg.vector("w", n), sg.vector("y", m)
    g = sg.grad(0.5 * sg.sum((X @ w - y) ** 2), w)  # was 1.0 X^{\top} (X w - y)
    assert sg.latex(g) == r"X^{\top} (X w - y)" and str(g) == "Xᵀ (X w - y)"
    src = sg.codegen([g], [X, w, y])
    assert "1.0" not in src and "1.000" not in src
    x = sg.vector("x", n)
    cases = [(0.5 * x, r"\frac{1}{2} x"), (1.0 * x, "x"), (1e-5 * x, r"10^{-5} x"),
             (0.1 * x, "0.1 x"), (-0.5 * x, r"-\frac{1}{2} x"),
             (2.5e-7 * x, r"2.5 \cdot 10^{-7} x"),
             (1 / sg.sqrt(6) * x, r"\frac{1}{\sqrt{6}} x"),  # was 0.408248290463863 x
             (x + 1e-5, r"x + 10^{-5}")]
    for e, want in cases:
        assert sg.latex(e) == want
        faithful(e)
    assert sg.latex(1 / sg.sqrt(n_) * x) == r"\frac{1}{\sqrt{d}} x"  # a size: parser todo
    for e, want in [(sg.simplify(x / sg.sqrt(6)), r"\frac{1}{\sqrt{6}} x"),  # was √6/6
                    (sg.simplify(-x / sg.sqrt(2)), r"-\frac{1}{\sqrt{2}} x")]:
        assert sg.latex(e) == want
        faithful(e)
    assert str(1e-5 * x) == "10⁻⁵ x" and str(0.5 * x) == "(1/2) x"
    S, r = sg.matrix("Sigma", n, n, symmetric=True), sg.vector("r", n)
    L = 0.5 * sg.logdet(S) + 0.5 * (r @ sg.inv(S) @ r)
    tex = sg.latex(sg.grad(L, S))
    assert "0.5" not in tex and "1.0" not in tex, tex


def test_named_constants():
    x = sg.vector("x", n)
    eps = sg.scalar("epsilon", value=1e-5)
    assert eps is sg.constant("epsilon", 1e-5)
    e = x / (sg.sqrt(x * x) + eps)
    assert sg.latex(e) == r"x \oslash (\sqrt{x \odot x} + \epsilon)" and "ε" in str(e)
    v = np.array([3.0, -4.0])
    want = v / (np.abs(v) + 1e-5)
    np.testing.assert_allclose(sg.evaluate(e, {"x": v}), want)  # nothing to bind for ε
    np.testing.assert_allclose(sg.lambdify([e], [x])(v)[0], want)
    with pytest.raises(sg.DifferentiationError):
        sg.grad(sg.sum(e), eps)
    with pytest.raises(sg.SymgradError):
        sg.constant("epsilon", x)


def test_sigma_variable_is_not_the_sigmoid():
    s, W, x = sg.scalar("sigma"), sg.matrix("W", n, m), sg.vector("x", m)
    assert sg.latex(s * (W @ x + 1)) == r"\sigma \cdot (W x + 1)"  # was \sigma (W x + 1)
    assert sg.latex(s * (W @ x)) == r"\sigma \, W x"
    faithful(s * (W @ x + 1) + sg.sigmoid(W @ x))
    faithful(s * (W @ x))


# ---- check() says ok for every printed gradient ---------------------------------------------
@ci_examples(15)
@given(objectives(), seeds())
def test_check_accepts_every_printed_gradient(ey, seed):
    _, y = ey
    x = next(v for v in variables(y) if v.params[2] == "var")
    g = sg.grad(y, x)
    v = sg.check(sg.latex(g), y, x, seed=seed % 1000)
    assert v.ok, f"{sg.latex(g)}\n{v}"


# ---- everything above compiles, in one pdflatex run ------------------------------------------
@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex is not installed")
def test_all_compile():
    assert len(PRINTED) > 100, "run with the whole module: it typesets what the tests printed"
    # the property tests read one result's named-parts display back, not only one-line ones
    assert len(DISPLAYS) >= 20, len(DISPLAYS)
    bad = compile_errors(PRINTED)
    assert not bad, [(msg, PRINTED[i] if i >= 0 else "") for i, msg in bad[:5]]




def test_check_reads_a_display_whose_part_is_defined_as_a_row():
    """The wrong verdict of issue 10's figures: a gradient printed with M₂ &= (C A 1ₘ)ᵀ (…),
    a 1-D part written as a row, used as that row in 1ₙ M₂ (an outer product). check said
    'two column vectors side by side'; it now reads the display and tells right from wrong."""
    r, C, A = sg.matrix("r", 1, m), sg.matrix("C", m, n), sg.matrix("A", n, m)
    c = sg.matrix("c", n, 1)
    Z = 3 / m * sg.outer(C @ A @ sg.ones(m), sg.logsumexp(-1.5 * (c @ r @ C), axis=0))
    y = sg.sum((sg.tanh(Z) + 0.5) * Z)
    tex = "\n".join([
        r"\begin{aligned}",
        r"M_{1} &= C A \mathbf{1}_{m} \operatorname{logsumexp}_{\mathrm{col}}"
        r"\left(-\frac{3}{2} c r C\right)^{\top} \\",
        r"H &= \tanh\left(\frac{3}{m} M_{1}\right) \\",
        r"M_{2} &= (C A \mathbf{1}_{m})^{\top} \left(H + \frac{1}{2} + \frac{3}{m} "
        r"(M_{1} \odot (1 - H^{\circ 2}))\right) \\",
        r"&-\frac{9}{2 m} c^{\top} \left(\operatorname{softmax}_{\mathrm{col}}"
        r"\left(-\frac{3}{2} c r C\right) \odot (\mathbf{1}_{n} M_{2})\right) C^{\top}",
        r"\end{aligned}"])
    v = sg.check(tex, y, r, seed=3)
    assert v.ok, str(v)
    assert not sg.check(tex.replace(r"\frac{9}{2 m}", r"\frac{9}{4 m}"), y, r, seed=3).ok
