"""Fuzzing the parser: random strings and mutated valid inputs raise only symgrad errors,
never another exception, and never take long (input size and nesting are bounded)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_parse_corpus import CORPUS, SHAPES

import symgrad as sg

DECLS = SHAPES + ", lambda: scalar, sigma: scalar, T: scalar"
PIECES = [
    "W", "X", "x", "y", "A", "b", "s", "n", "I", "e", "d", "1", "0", "2", "0.5", " ", "+", "-",
    "*", "/", "=", ",", ";", "'", "|", "(", ")", "[", "]", "{", "}", "^", "_", "&", ".",
    r"\|", r"\frac", r"\partial", r"\top", "T", r"^{-1}", r"^{-\top}", r"^{\circ", r"\circ",
    r"\odot", r"\oslash", r"\oplus", r"\cdot", r"\times", r"\log", r"\det", r"\exp", r"\sigma",
    r"\operatorname{tr}", r"\operatorname{softmax}", r"_{\mathrm{row}}", r"\mathbf{1}",
    r"\mathbb{1}", r"\mathbf{", r"\mathbb{R}", r"\in", r"\left(", r"\right)", r"\left\|",
    r"\right\|", r"\lVert", r"\rVert", r"\sqrt", r"\text{", r"\quad", r"\theta", r"\bm",
    r"\sum", r"\foo", "\\", r"\mathbf{0}", "_1", "_{12}", r"\big(", "\n", "é", "∂", "ᵀ",
    r"10^{10^{10}}", "99999999999", r"1^\top", "1_n", r"\cdot", "nxn", r"\mathbb{R}^{nnnn}",
]


def _parse_only_symgrad_errors(text: str) -> None:
    t = time.process_time()  # CPU time: a hang or blow-up, not the machine's load
    try:
        sg.parse(text, DECLS)
    except sg.SymgradError:
        pass
    # everything else propagates and fails the test
    took = time.process_time() - t
    assert took < 3.0, f"parse took {took:.2f}s of CPU: {text!r}"


@settings(max_examples=400, deadline=None)  # the time is asserted in the test
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_random_token_soup(text):
    _parse_only_symgrad_errors(text)


@settings(max_examples=200, deadline=None)  # the time is asserted in the test
@given(st.text(max_size=60))
def test_random_unicode_text(text):
    _parse_only_symgrad_errors(text)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["delete", "insert", "replace", "swap"]))
        if how == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 5)):]
        elif how == "insert":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif how == "replace":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i + 1:]
        else:
            j = draw(st.integers(0, len(text)))
            a, b = sorted((i, j))
            text = text[:a] + text[b:] + text[a:b]
    return text


@settings(max_examples=500, deadline=None)  # the time is asserted in the test
@given(mutated())
def test_mutated_valid_inputs(text):
    _parse_only_symgrad_errors(text)


@settings(max_examples=60, deadline=None)  # the time is asserted in the test
@given(st.sampled_from(PIECES), st.integers(1, 3000))
def test_long_repetitions_are_refused_or_parsed_quickly(piece, count):
    _parse_only_symgrad_errors(piece * count)


# ---- hostile inputs: a symgrad error, never another exception, never a hang ---------------------
HOSTILE = [
    r"x, x \in \mathbb{R}^{" + "n" * 2000 + "}", r"x \in \mathbb{R}^{10^{12}}",
    r"y, y \in \mathbb{R}^{99999999999999999999}", r"10^{10^{10}} x", r"2^{999999}",
    r"2^{2^{2^{2^{2}}}}", r"10^{-10^{10}}", r"(10^{10})^{10^{10}}", r"s^{-99999}", r"\frac{1}{0}",
    r"0^{-1}", r"A^{99999}", "9" * 39, "9" * 39 + ".5", r"\mathbf{1}_{" + "n" * 500 + "}",
    r"I_{99999999999}", r"\mathbf{1}_{0}", r"\mathbf{1}_{-1}", "\x00", "\u202e", r"\sqrt{-1}",
    r"\frac{\partial L}{\partial \frac{\partial L}{\partial x}}", r"e^{e^{e^{e^{e^{e^{x}}}}}}",
    "{" * 59 + "x" + "}" * 59, r"\left(" * 59 + "x" + r"\right)" * 59, r"x^{\circ 99999999999}",
    r"(-1)^{1/2}", r"x, x \in \mathbb{R}^{\infty}", r"f = f", r"M, M = M", r"x \in",
    r"1^{\top}_{n}", r"x^{" + "{" * 50 + "}" * 50 + "}", r"n^{n^{n}} x", r"A: nxnxnxn",
    "x" + r"\," * 3000, r"\sigma(" * 12 + "x" + ")" * 12, r"\log" * 500 + " x",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inputs_to_parse(text):
    _parse_only_symgrad_errors(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_objectives_to_check(text):
    t = time.process_time()  # CPU time: a hang or blow-up, not the machine's load
    try:
        sg.check("2 x", text + r" + x^\top x", "x", DECLS)
    except sg.SymgradError:
        pass
    took = time.process_time() - t
    assert took < 10.0, f"check took {took:.2f}s of CPU: {text!r}"


@pytest.mark.parametrize("shapes", [
    "x: 99999999999", "x: n, A: 99999999999 x 99999999999",
    r"x \in \mathbb{R}^{1000000 n}", {"x": "n n n n n n n n n n n n n n n n n n n n n n n n"},
])
def test_sizes_too_large_to_sample_are_a_size_error(shapes):
    with pytest.raises(sg.SizeError, match="too large"):
        sg.check("2 x", r"x^\top x + \mathbf{1}^\top A \mathbf{1}" if "A" in str(shapes)
                 else r"x^\top x", "x", shapes)
