"""parse(latex(e)) gives back e: a property over random well-shaped expressions.

The printer writes some different nodes alike: (n,) and the kept-dims column (n, 1) of a sum
both print `G 1ₖ`, and `A B C` is printed for both groupings of the matrix product. So the
property checked over every random expression is: the parse has e's value and shape (with
`shape=e.shape`, which settles the unit axes). Reductions are left out of the generator: a
reduction over a unit axis (`logsumexp_col` of a row) prints like one over the long axis,
so the printed text has two meanings (measured: 595 of 600 random expressions with reductions
still parse back to their value; benchmarks/parse_figures.py). Structural identity
(`parse(latex(e)) is e`, or after simplify) is checked on the printer's typical output in
test_parse.py
(test_printed_expressions_parse_back_to_themselves).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from strategies import expressions, numeric_point, seeds

import symgrad as sg
from symgrad.numeric import variables


@settings(max_examples=200)
@given(expressions(exclude=("reduce",)), seeds())
def test_parse_of_latex_has_the_value_of_the_expression(e, seed):
    tex = sg.latex(e)
    got = sg.parse(tex, variables(e), shape=e.shape)
    assert got.shape == e.shape, tex
    sizes, env = numeric_point([e], seed)
    want = sg.evaluate(e, env, sizes)
    val = sg.evaluate(got, env, sizes)
    assert np.allclose(val, want, rtol=1e-9, atol=1e-9, equal_nan=True), \
        f"{tex}\n parsed {got!r}\n wanted {e!r}"


def test_simplify_of_a_reshaped_row_quotient():
    """Was a rewrite cycle: pull-scalar against the normal form of c / X broadcast to a row."""
    n = sg.dims("n")
    s, x = sg.scalar("s"), sg.vector("x", n)
    e = sg.reshape(s / (1 + x), (1, n))
    got = sg.simplify(e)
    assert got.shape == (1, n)
    sizes, env = numeric_point([e], 0)
    assert np.allclose(sg.evaluate(got, env, sizes), sg.evaluate(e, env, sizes))
