"""Is the printed formula the value? Helpers shared by tests/test_faithful.py and
benchmarks/faithful_figures.py.

- `reparse_error(e, seed)`: parse(latex(e)) evaluated at a random point against e's value;
  None when they agree, else what went wrong.
- `display_error(results, seed)`: the same for several results displayed together (one
  `aligned` block, shared parts named once; a dict labels its rows dL/dW), read back by
  `parse_display`.
- `compile_errors(formulas)`: every formula typeset in ONE pdflatex run (amsmath, amssymb, bm);
  the indices of those that do not compile, with pdflatex's message.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

import symgrad as sg
from symgrad.check import _close, _values_and_noise
from symgrad.display import parse_display
from symgrad.latex_in.build import conform
from symgrad.node import Node
from symgrad.numeric import variables
from symgrad.testing import random_env, random_sizes

PREAMBLE = (r"\documentclass{article}\usepackage{amsmath,amssymb,bm}"
            r"\begin{document}" "\n")
HAS_PDFLATEX = shutil.which("pdflatex") is not None


def reparse_error(e: Node, seed: int = 0, tex: str | None = None,
                  env: dict | None = None, declare: Node | None = None) -> str | None:
    """None when parse(latex(e)), read with the variables of e (and of `declare`: an
    objective whose variables declare the sizes) and e's shape, has e's value (at `env`,
    else at random sizes and values drawn from `seed`)."""
    tex = sg.latex(e) if tex is None else tex
    decls = variables([e] if declare is None else [e, declare])
    try:
        got = sg.parse(tex, decls, shape=e.shape)
    except sg.SymgradError as exc:
        return f"{tex}\n  does not parse: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return _value_error(e, got, tex, decls, seed, env)


def display_error(results: Sequence[Node] | Mapping[Node, Node], seed: int = 0,
                  declare: Node | None = None) -> str | None:
    """None when the display of several results together (`sg.latex` of a list, or of a dict
    {variable: gradient}; their shared parts named once for all), read by `parse_display`,
    gives each result's value."""
    tex = sg.latex(results)
    exprs = list(results.values() if isinstance(results, Mapping) else results)
    decls = variables(list(exprs) + ([] if declare is None else [declare]))
    try:
        rows = parse_display(tex, decls)
    except sg.SymgradError as exc:
        return f"{tex}\n  does not parse: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    if len(rows) != len(exprs):
        return f"{tex}\n  reads as {len(rows)} results, not {len(exprs)}"
    for (_, got), e in zip(rows, exprs):
        try:  # a row's unit axes, as sg.parse(shape=...) settles them for one result
            got = conform(got, e.shape)
        except sg.SymgradError as exc:
            return f"{tex}\n  a row reads as {got!r}: {exc}"
        err = _value_error(e, got, tex, decls, seed, None)
        if err:
            return err
    return None


def _value_error(e: Node, got: Node, tex: str, decls: list, seed: int,
                 env: dict | None) -> str | None:
    if got.shape != e.shape:
        return f"{tex}\n  parses to shape {got.shape}, not {e.shape}"
    rng = np.random.default_rng(seed)
    sizes = random_sizes([e, got] + decls, rng)
    env = random_env([e, got], sizes, rng) if env is None else env
    with np.errstate(all="ignore"):
        want = sg.evaluate(e, env, sizes)
        val = sg.evaluate(got, env, sizes)
    if not np.allclose(val, want, rtol=1e-8, atol=1e-10, equal_nan=True):
        # Not within a fixed tolerance: within float64 rounding of the two computations
        # (measured as check() does: both again with every value moved by a few ulps)?
        # Equal formulas associated differently round differently, which cancellation
        # can magnify beyond any fixed tolerance.
        with np.errstate(all="ignore"):
            a, b, noise = _values_and_noise(got, e, env, sizes, rng)
        if not _close(a, b, 1e-8, noise):
            return f"{tex}\n  parses to {got!r}, another value than {e!r}"
    return None


def compile_errors(formulas: list[str]) -> list[tuple[int, str]]:
    """(index, pdflatex error) of each formula that does not compile; one pdflatex run."""
    lines = [rf"\[ {f} \]" for f in formulas]
    doc = PREAMBLE + "\n".join(lines) + "\n\\end{document}\n"
    first = PREAMBLE.count("\n") + 1  # the line of formula 0
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f.tex").write_text(doc)
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "f.tex"], cwd=tmp,
                           capture_output=True, text=True, timeout=600)
        log = (Path(tmp) / "f.log").read_text(errors="replace")
    out: dict[int, str] = {}
    for m in re.finditer(r"^! (.*?)$(?:.|\n)*?^l\.(\d+)", log, re.M):
        i = int(m.group(2)) - first
        if 0 <= i < len(formulas):
            out.setdefault(i, m.group(1))
    if not out and r.returncode != 0:
        out[-1] = "pdflatex failed: " + (re.findall(r"^!.*", log, re.M) or ["?"])[0]
    return sorted(out.items())
