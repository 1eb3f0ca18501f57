"""symgrad.syntax: Python and ASCII input read without evaluating it, LaTeX through sg.parse,
shapes inferred under stated assumptions; every reading checked by value against sg.parse."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import InputSyntaxError
from symgrad.node import topo
from symgrad.numeric import free_sizes, variables
from symgrad.syntax import detect_syntax, parse_input, read_input
from symgrad.testing import random_env

SHAPES = "W: n×m, X: m×k, b: n×1, x: n, y: n, A: n×n, B: n×n, s: ()"


def same_value(a, b, seed=0):
    """a and b evaluate to the same array at random sizes and inputs."""
    assert a.shape == b.shape
    sizes = {s: 2 + i for i, s in enumerate(sorted(free_sizes(topo([a, b])), key=str))}
    env = random_env(variables([a, b]), sizes, np.random.default_rng(seed))
    np.testing.assert_allclose(sg.evaluate(a, env), sg.evaluate(b, env), rtol=1e-10)


@pytest.mark.parametrize("text, syntax, latex", [
    ("W @ X + b", "python", r"W X + b"),
    ("sg.tanh(W @ X + b).T", "python", r"\tanh(W X + b)^\top"),
    ("np.exp(x) * y - 2 ** s", "python", r"\exp(x) \odot y - 2^{s}"),
    ("sum(A ** 2, axis=0)", "python", r"(A \odot A)^\top \mathbf{1}_n"),
    ("x'*A*x", "ascii", r"x^\top A x"),
    ("inv(A)*x", "ascii", r"A^{-1} x"),
    ("A.*B + A./B", "ascii", r"A \odot B + A \oslash B"),
    ("norm2(x) + tr(A) + det(A)", "ascii", r"\|x\|_2 + \operatorname{tr}(A) + \det(A)"),
    ("log(det(A)) + sum(exp(x))", "python", r"\log\det A + \mathbf{1}^\top \exp(x)"),
    ("x*y'", "ascii", r"x y^\top"),
    ("(A*x).^2", "ascii", r"(A x) \odot (A x)"),
    ("s*x'*y", "ascii", r"s x^\top y"),
    (r"W X + b", "latex", r"W X + b"),
])
def test_readings_match_latex(text, syntax, latex):
    p = read_input(text, SHAPES)
    assert p.syntax == syntax
    assert p.assumptions == [] or syntax == "ascii"
    same_value(p.expr, sg.parse(latex, SHAPES))


def test_definitions_name_the_result():
    p = read_input("H = tanh(W @ X + b)\nL = sum(H ** 2)", SHAPES)
    assert p.label == "L" and p.expr.ndim == 0
    same_value(p.expr, sg.parse(r"\mathbf{1}_n^\top (\tanh(W X + b) \odot \tanh(W X + b))"
                                r" \mathbf{1}_k", SHAPES))


def test_founding_case_inferred_with_its_assumption():
    p = read_input("W X + b")
    assert p.shapes == {"W": ("n", "m"), "X": ("m", "k"), "b": ("n", "1")}
    assert any("b: n×1, a column" in a and "across the k columns" in a for a in p.assumptions)
    assert sg.latex(sg.explicit(p.expr)) == r"W X + b \mathbf{1}_{k}^{\top}"
    g = sg.grad(p.expr, p.decls.vars["b"])
    assert sg.latex(g) == r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"
    for text in ("W @ X + b", "W*X + b"):
        q = read_input(text)
        assert q.shapes == p.shapes
        same_value(q.expr, p.expr)


@pytest.mark.parametrize("text, shapes", [
    ("x'*A*x", {"x": ("n",), "A": ("n", "n")}),
    (r"x^\top A x", {"x": ("n",), "A": ("n", "n")}),
    ("alpha*x'*x", {"alpha": (), "x": ("n",)}),
    ("inv(A)*b", {"A": ("n", "n"), "b": ("n",)}),
    (r"\tanh(W x + b)", {"W": ("n", "m"), "x": ("m",), "b": ("n",)}),
    ("x*y'", {"x": ("n",), "y": ("m",)}),
])
def test_inferred_shapes(text, shapes):
    p = read_input(text)
    assert p.shapes == shapes
    assert len(p.assumptions) >= len(shapes)


def test_declared_shapes_win_and_partial_declarations_are_completed():
    p = read_input("W @ X + c", "W: n×m, X: m×k, c: k")
    assert p.shapes == {} and p.expr.shape == p.decls.vars["W"].shape[:1] + (
        p.decls.vars["X"].shape[1],)
    q = read_input("W @ x", "W: 3×4")
    assert q.shapes == {"x": ("4",)}


@pytest.mark.parametrize("text, syntax, column, message", [
    ("W @ X +", "python", 8, "invalid syntax"),
    ("__import__('os').system('true')", "python", 1, "cannot be called"),
    ("W.__class__", "python", 1, "only .T"),
    ("x[0]", "python", 1, "indexing"),
    ("lambda: 1", "python", 1, "lambda"),
    ("exp(x, y)", "python", 1, "takes 1 argument"),
    ("sum(A, dtype=1)", "python", 14, "keyword dtype="),
    ("open('f')", "python", 1, "cannot be called"),
    ("A^2", "ascii", 3, "takes scalars"),
    ("x'*A*", "ascii", 6, "syntax"),
])
def test_errors_carry_the_column(text, syntax, column, message):
    with pytest.raises(sg.SymgradError, match=message) as info:
        read_input(text, SHAPES, syntax)
    assert info.value.column == column
    assert "^" in str(info.value).splitlines()[-1]


def test_long_and_deep_input():
    long_sum = "x" + " + x" * 1000  # a flat chain: no depth limit
    assert read_input(long_sum, SHAPES, "python").expr.shape == read_input("x", SHAPES).expr.shape
    for text in ("-" * 5000 + "x", "(" * 300 + "x" + ")" * 300, "x" + "**x" * 300):
        with pytest.raises(sg.SymgradError, match="nested|parenthes"):
            read_input(text, SHAPES, "python")


def test_nothing_is_evaluated(monkeypatch):
    """Whatever the text, no Python code of the user's runs: eval/exec are never reached."""
    import builtins

    def boom(*a, **k):
        raise AssertionError("user text was evaluated")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    for text in ("__import__('os')", "(lambda: 0)()", "[x for x in ()]", "x.__class__",
                 "sg.tanh.__globals__", "f'{x}'"):
        with pytest.raises(sg.SymgradError):
            parse_input(text, SHAPES, "python")


def test_shape_errors_name_the_operands_with_a_column():
    with pytest.raises(sg.ShapeError, match="inner sizes") as info:
        parse_input("W @ A", SHAPES, "python")
    assert info.value.column == 1
    with pytest.raises(sg.ShapeError, match="both factors are columns"):
        parse_input("x*y", SHAPES, "ascii")


def test_detection():
    assert detect_syntax(r"\frac{1}{2} x^\top A x") == "latex"
    assert detect_syntax("W X + b") == "latex"
    assert detect_syntax("W @ X + b") == "python"
    assert detect_syntax("tanh(x)") == "python"
    assert detect_syntax("x'*A*x") == "ascii"
    assert detect_syntax("A*B") == "ascii"
    with pytest.raises(sg.SymgradError, match="unknown syntax"):
        read_input("x", SHAPES, "matlab")


def test_auto_falls_back_to_latex_written_plainly():
    for text in ("x^T A x", "x'Ax", "x' A x"):
        p = read_input(text, SHAPES)
        assert p.syntax == "latex"
        same_value(p.expr, sg.parse(r"x^\top A x", SHAPES))
    with pytest.raises(InputSyntaxError) as info:
        read_input("x'*A*", SHAPES)  # neither ASCII nor LaTeX: the ASCII error, with its column
    assert info.value.column == 6


def test_unknown_latex_stays_a_clear_error():
    with pytest.raises(sg.UnknownSymbolError):
        read_input(r"\mathbf{1}_n^\top Q", None, "latex")
