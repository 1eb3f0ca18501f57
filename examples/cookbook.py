"""Matrix Cookbook gradients, derived and printed in textbook form, each checked numerically."""

import symgrad as sg

n = sg.dims("n")
x, a, b = sg.vector("x", n), sg.vector("a", n), sg.vector("b", n)
A, B, X = sg.matrix("A", n, n), sg.matrix("B", n, n), sg.matrix("X", n, n)

cases = [
    (r"a^{\top} x", a @ x, x, "a"),
    (r"x^{\top} A x", x @ A @ x, x, r"(A + A^{\top}) x"),
    (r"\operatorname{tr}(A X)", sg.trace(A @ X), X, r"A^{\top}"),
    (r"\operatorname{tr}(X^{\top} A X)", sg.trace(X.T @ A @ X), X, r"(A + A^{\top}) X"),
    (r"\operatorname{tr}(A X B)", sg.trace(A @ X @ B), X, r"A^{\top} B^{\top}"),
    (r"\log\det(X)", sg.logdet(X), X, r"X^{-\top}"),
    (r"\det(X)", sg.det(X), X, r"\det(X) X^{-\top}"),
    (r"a^{\top} X^{-1} b", a @ sg.inv(X) @ b, X, r"-X^{-\top} a b^{\top} X^{-\top}"),
    (r"\|A x - b\|^{2}", sg.norm(A @ x - b) ** 2, x, r"2 A^{\top} (A x - b)"),
    (r"\|X\|_{F}^{2}", sg.norm(X) ** 2, X, "2 X"),
    (r"\operatorname{tr}(X^{-1} A)", sg.trace(sg.inv(X) @ A), X, r"-X^{-\top} A^{\top} X^{-\top}"),
]
for tex, y, v, textbook in cases:
    g = sg.grad(y, v)
    print(rf"\frac{{\partial}}{{\partial {sg.latex(v)}}} {tex} = {sg.latex(g)}")
    assert sg.latex(g) == textbook, (tex, sg.latex(g))
    assert sg.gradcheck(y, v).ok, tex
