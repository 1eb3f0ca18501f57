"""A corpus of LaTeX as people write it (with its shapes): every entry parses. The parse-time
benchmark (benchmarks/parse_figures.py) and the fuzz tests (mutations) use it too."""

from __future__ import annotations

import pytest

import symgrad as sg

SHAPES = ("W: n×m, X: m×k, b: n×1, c: m, x: n, y: n, A: n×n, B: n×n, S: n×n, G: n×k, "
          "s: scalar, W_1: n×m, W_2: k×m, theta: n, Z: n×k, f: n×k, z: n×k, Y: n×k, a: n")

CORPUS = [
    r"W X + b", r"W X \oplus b", r"\sigma(W X + b)", r"\tanh\left(W_1^\top x + c\right)",
    r"x^\top A x", r"x^T A^T A x", r"\frac{1}{2} \|A x - y\|_2^2", r"\left\| A x - y \right\|^2",
    r"\operatorname{tr}(A^\top B A)", r"\mathrm{tr}(A B^{-1})", r"\log\det(S)", r"\log|S|",
    r"\det(A) A^{-\top}", r"-A^{-\top} a y^\top A^{-\top}", r"(A + A^\top) x",
    r"2 A^\top (A x - y)",
    r"\frac{\partial L}{\partial f} \mathbf{1}_k",
    r"\left(\frac{\partial L}{\partial f}\right)^\top"
    r" \mathbf{1}_n", r"\mathbf{1}_n^\top \frac{\partial L}{\partial z}",
    r"\frac{\partial L}{\partial f} X^\top", r"W^\top \frac{\partial L}{\partial f}",
    r"\operatorname{softmax}_{\mathrm{row}}(Z)", r"\operatorname{relu}(W X) \odot G",
    r"\exp(Z) \oslash (\exp(Z) \mathbf{1}_k \mathbf{1}_k^\top)", r"s \cdot x + \theta",
    r"\boldsymbol{\theta}^\top \mathbf{x}", r"\mathbf{W}_2 \operatorname{relu}(W_1^\top x)",
    r"f = W X + b",
    r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_{k}",
    r"x^\top y \, A x", r"\lVert x \rVert_2^2 + \lambda \|\theta\|^2",
    r"\operatorname{diag}(x) A", r"(I_n - A)^{-1} x",
    r"I - \frac{1}{n} \mathbf{1}_n \mathbf{1}_n^\top",
    r"e^{-s} x", r"\sqrt{s} x", r"A^{\circ 2} \odot B", r"A^2 x", r"(Y - Z)^{\circ 2}",
    r"\mathbf{1}_n^\top (Y - Z)^{\circ 2} \mathbf{1}_k", r"\log(1 + \exp(x))",
    r"\operatorname{logsumexp}(x) - x^\top y", r"\frac{d L}{d f} \mathbf{1}_k",
    r"W X + b, \quad W \in \mathbb{R}^{n \times m}",
]


@pytest.mark.parametrize("tex", CORPUS)
def test_corpus_parses(tex):
    e = sg.parse(tex, SHAPES + ", lambda: scalar")
    assert isinstance(e, sg.Node)
