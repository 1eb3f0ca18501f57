"""derive(..., order=2): the Hessian through the second differential, steps checked in numbers."""

import pytest

import symgrad as sg

n = sg.dims("n")
x, b = sg.vector("x", n), sg.vector("b", n)
A, X = sg.matrix("A", n, n), sg.matrix("X", n, n)


def test_quadratic_form_lines():
    d = sg.derive(x @ A @ x, x, order=2)
    assert d.lines() == [
        r"\frac{\partial L}{\partial x} = (A + A^{\top}) x",
        r"dL = ((A + A^{\top}) x)^{\top} dx",
        r"d^2 L = dx^{\top} (A + A^{\top}) dx",
        r"\frac{\partial^2 L}{\partial x \, \partial x^{\top}} = A + A^{\top}",
    ]
    assert d.result[x] is sg.hessian(x @ A @ x, x)
    assert d.verify().ok


@pytest.mark.parametrize("y,v,hess", [
    (sg.norm(A @ x - b) ** 2, x, r"2 A^{\top} A"),
    (sg.sum(sg.exp(A @ x)), x, r"A^{\top} \operatorname{diag}(\exp(A x)) A"),
    (sg.trace(X.T @ A @ X), sg.vec(X), r"I_{n} \otimes (A + A^{\top})"),
])
def test_hessian_read_off_and_steps_agree(y, v, hess):
    d = sg.derive(y, v, order=2)
    assert d.lines()[-1].endswith("= " + hess)
    for seed in range(3):
        report = d.verify(seed=seed)
        assert report.ok, str(report)
    assert "read as a quadratic form" in d.latex() or len(d.lines()) == 4


def test_a_wrong_step_is_caught():
    import dataclasses

    d = sg.derive(sg.norm(A @ x - b) ** 2, x, order=2)
    second = next(s for s in d.steps if s.kind == "second")
    bad = dataclasses.replace(second.equations[1], rhs=x @ (A.T @ A) @ x)  # the 2 dropped
    d.steps[d.steps.index(second)] = dataclasses.replace(
        second, equations=(second.equations[0], bad))
    assert not d.verify().ok


@pytest.mark.parametrize("call,words", [
    (lambda: sg.derive(x @ A @ x, [x, b], order=2), "one variable"),
    (lambda: sg.derive(A @ x, x, order=2), "scalar objective"),
    (lambda: sg.derive(x @ A @ x, x, order=3), "order=1"),
])
def test_bad_input(call, words):
    with pytest.raises(sg.DifferentiationError, match=words):
        call()
