"""Matrix Cookbook gradients (Petersen & Pedersen, 2012): textbook form, checked numerically.

Each golden string is the exact LaTeX symgrad prints; each case also passes gradcheck.
"""

import pytest

import symgrad as sg

n = sg.dims("n")
x, a, b = sg.vector("x", n), sg.vector("a", n), sg.vector("b", n)
A, B, X = sg.matrix("A", n, n), sg.matrix("B", n, n), sg.matrix("X", n, n)

CASES = [
    # (citation, objective, variable, textbook form)
    ("eq. (69): d(aᵀx)/dx = a", a @ x, x, "a"),
    ("eq. (81): d(xᵀAx)/dx = (A + Aᵀ)x", x @ A @ x, x, r"(A + A^{\top}) x"),
    ("eq. (100): d tr(AX)/dX = Aᵀ", sg.trace(A @ X), X, r"A^{\top}"),
    ("§2.5.2: d tr(XᵀAX)/dX = (A + Aᵀ)X", sg.trace(X.T @ A @ X), X, r"(A + A^{\top}) X"),
    ("eq. (101): d tr(AXB)/dX = AᵀBᵀ", sg.trace(A @ X @ B), X, r"A^{\top} B^{\top}"),
    ("eq. (57): d log det X/dX = X⁻ᵀ", sg.logdet(X), X, r"X^{-\top}"),
    ("eq. (49): d det X/dX = det(X) X⁻ᵀ", sg.det(X), X, r"\det(X) X^{-\top}"),
    ("eq. (61): d aᵀX⁻¹b/dX = -X⁻ᵀabᵀX⁻ᵀ", a @ sg.inv(X) @ b, X,
     r"-X^{-\top} a b^{\top} X^{-\top}"),
    ("eq. (84), W = I: d‖Ax - b‖²/dx = 2Aᵀ(Ax - b)", sg.norm(A @ x - b) ** 2, x,
     r"2 A^{\top} (A x - b)"),
    ("same, as a sum of squares", sg.sum((A @ x - b) ** 2), x, r"2 A^{\top} (A x - b)"),
    ("§2.5.2: d‖X‖_F²/dX = 2X", sg.norm(X) ** 2, X, "2 X"),
    ("§2.5.2, B = I: d tr(X⁻¹A)/dX = -X⁻ᵀAᵀX⁻ᵀ", sg.trace(sg.inv(X) @ A), X,
     r"-X^{-\top} A^{\top} X^{-\top}"),
]


@pytest.mark.parametrize("cite,y,v,golden", CASES, ids=[c[0] for c in CASES])
def test_textbook_form(cite, y, v, golden):
    assert sg.latex(sg.grad(y, v)) == golden


@pytest.mark.parametrize("cite,y,v,golden", CASES, ids=[c[0] for c in CASES])
def test_numerically_right(cite, y, v, golden):
    for seed in range(3):
        report = sg.gradcheck(y, v, seed=seed)
        assert report.ok, str(report)
