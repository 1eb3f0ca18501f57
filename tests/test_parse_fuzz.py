"""Fuzzing the parser: random strings and mutated valid inputs raise only symgrad errors,
never another exception, and never take long (input size and nesting are bounded)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from test_parse_corpus import CORPUS, SHAPES

import symgrad as sg

DECLS = SHAPES + ", lambda: scalar"
PIECES = [
    "W", "X", "x", "y", "A", "b", "s", "n", "I", "e", "d", "1", "0", "2", "0.5", " ", "+", "-",
    "*", "/", "=", ",", ";", "'", "|", "(", ")", "[", "]", "{", "}", "^", "_", "&", ".",
    r"\|", r"\frac", r"\partial", r"\top", "T", r"^{-1}", r"^{-\top}", r"^{\circ", r"\circ",
    r"\odot", r"\oslash", r"\oplus", r"\cdot", r"\times", r"\log", r"\det", r"\exp", r"\sigma",
    r"\operatorname{tr}", r"\operatorname{softmax}", r"_{\mathrm{row}}", r"\mathbf{1}",
    r"\mathbb{1}", r"\mathbf{", r"\mathbb{R}", r"\in", r"\left(", r"\right)", r"\left\|",
    r"\right\|", r"\lVert", r"\rVert", r"\sqrt", r"\text{", r"\quad", r"\theta", r"\bm",
    r"\sum", r"\foo", "\\", r"\mathbf{0}", "_1", "_{12}", r"\big(", "\n", "é", "∂", "ᵀ",
]


def _parse_only_symgrad_errors(text: str) -> None:
    t = time.perf_counter()
    try:
        sg.parse(text, DECLS)
    except sg.SymgradError:
        pass
    # everything else propagates and fails the test
    assert time.perf_counter() - t < 2.0, f"parse took {time.perf_counter() - t:.2f}s: {text!r}"


@settings(max_examples=400)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_random_token_soup(text):
    _parse_only_symgrad_errors(text)


@settings(max_examples=200)
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


@settings(max_examples=500)
@given(mutated())
def test_mutated_valid_inputs(text):
    _parse_only_symgrad_errors(text)


@settings(max_examples=60)
@given(st.sampled_from(PIECES), st.integers(1, 3000))
def test_long_repetitions_are_refused_or_parsed_quickly(piece, count):
    _parse_only_symgrad_errors(piece * count)
