"""Figures of the paper export: the 4-layer MLP derivation's page count and line count, and the
time to build and to render it.

The network (batch on rows, biases broadcast down the N rows, tanh hidden layers):

    Z_l = H_{l-1} W_l + b_l,  H_l = tanh(Z_l) (l < 4),  L = mean((Z_4 - Y)^2),  H_0 = X

    build   sg.derive(L, [W_1, b_1, ..., W_4, b_4])   (first call, and median of --repeat more)
    latex   Derivation.latex(document=True)            (the text of the standalone document)
    pdf     pdflatex -halt-on-error on that document    (one run)
    png     Derivation.save("x.png")                    (pdflatex on a page cut to size + pdftoppm)
    pages   PDF pages of the standalone A4 document
    lines   equation lines of the align* block (forward, backward, gradients)

Usage:  python benchmarks/derivation_figures.py [--repeat R] [--no-render]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import symgrad as sg
from symgrad.derivation import compile_latex, pdf_pages


def mlp4():
    N, d, c, h1, h2, h3 = sg.dims("N d c h1 h2 h3")
    widths = [d, h1, h2, h3, c]
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
    H, params = X, []
    for i in range(1, 5):
        W, b = sg.matrix(f"W{i}", widths[i - 1], widths[i]), sg.vector(f"b{i}", widths[i])
        params += [W, b]
        Z = H @ W + b
        H = sg.tanh(Z) if i < 4 else Z
    return sg.mean((H - Y) ** 2), params


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-render", action="store_true", help="skip pdflatex and pdftoppm")
    args = ap.parse_args(argv)

    L, params = mlp4()
    _, t_cold = timed(lambda: sg.derive(L, params), 1)  # first call: nothing interned yet
    d, t_build = timed(lambda: sg.derive(L, params), args.repeat)
    tex, t_latex = timed(lambda: d.latex(document=True), args.repeat)
    lines = d.lines()
    report = d.verify()
    print("4-layer MLP derivation (tanh, biases broadcast down the rows, mean squared error)")
    print(f"  lines:  {len(lines)} equation lines "
          f"({sum(s.kind == 'forward' for s in d.steps for _ in s.equations)} forward, "
          f"{sum(s.kind == 'backward' for s in d.steps for _ in s.equations)} backward, "
          f"{sum(s.kind == 'gradients' for s in d.steps for _ in s.equations)} gradients)")
    print(f"  build:  {t_cold * 1e3:.0f} ms first call, {t_build * 1e3:.0f} ms median of "
          f"{args.repeat} more (sg.derive)")
    print(f"  latex:  {t_latex * 1e3:.1f} ms  (the standalone document's text)")
    print(f"  verify: {'steps agree' if report.ok else 'STEPS DISAGREE'} "
          f"({len(report.errors)} checks)")
    ok = report.ok
    if args.no_render:
        return 0 if ok else 1
    if not (shutil.which("pdflatex") and shutil.which("pdftoppm")):
        print("  render: skipped (pdflatex or pdftoppm is not installed)")
        return 0 if ok else 1
    with tempfile.TemporaryDirectory() as tmp:
        pdf, t_pdf = timed(lambda: compile_latex(tex, Path(tmp)), 1)
        pages = pdf_pages(pdf)
        _, t_png = timed(lambda: d.save(Path(tmp) / "mlp4.png", dpi=150), 1)
    print(f"  pages:  {pages} (A4, 11pt, 2 cm margins)")
    print(f"  pdf:    {t_pdf:.2f} s  (pdflatex)")
    print(f"  png:    {t_png:.2f} s  (pdflatex + pdftoppm at 150 dpi)")
    print(f"  total:  {t_cold + t_latex + t_pdf:.2f} s  (first build + LaTeX + PDF)")
    return 0 if ok and pages == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
