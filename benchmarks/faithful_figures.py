"""Figures for issue 10: is the printed formula the value?

    python benchmarks/faithful_figures.py                 # 10,000 random objectives
    python benchmarks/faithful_figures.py --count 500     # a smaller run
    python benchmarks/faithful_figures.py --seed 7 --dump failures.txt   # other examples;
                                                          # every failure written out

Random expressions e and objectives y (tests/strategies.py, all constructs) and the gradient
of y with respect to each of its variables. Counts, each with a target of 0:
(a) printed formulas (of e and of each gradient) that do not parse back to their value;
(b) printed formulas that do not compile with pdflatex (amsmath, amssymb, bm; in batches);
(c) wrong verdicts of check(latex(g), y, x) on gradients (every `--check-every`-th one:
    check evaluates at 3 size bindings x 3 points, the slow part of the run).
Failures are listed by their first line, with one example each.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import symgrad as sg  # noqa: E402
from symgrad.latex_in.build import LatexAssumptionWarning  # noqa: E402
from symgrad.numeric import variables  # noqa: E402

warnings.simplefilter("ignore", LatexAssumptionWarning)
from faithful import HAS_PDFLATEX, compile_errors, reparse_error  # noqa: E402
from strategies import objectives  # noqa: E402

BATCH = 400  # formulas per pdflatex run


def _kind(err: str) -> str:
    """A failure's class: its message without the formula and its shapes."""
    line = err.splitlines()[1].strip() if "\n" in err else err
    return re.sub(r"\(shape .*|\(column.*|: .*?(?=\()", "", line)[:90]


def run(count: int, check_every: int, seed: int | None = None) -> dict:
    """`seed` None: the derandomized examples (the same every run); else Hypothesis's seed."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    stats = collections.Counter()
    reparse: dict[str, str] = {}
    checks: dict[str, str] = {}
    every: list[str] = []  # every failure, in full
    texs: list[str] = []

    @settings(max_examples=count, derandomize=seed is None, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(objectives(), st.integers(0, 2**31 - 1))
    def one(ey, point):
        e, y = ey
        stats["objectives"] += 1
        items = [(e, None)]
        xs = [v for v in variables(y) if v.params[2] == "var"]
        items += [(g, y) for g in sg.grad(y, xs)]
        for it, decl in items:
            stats["formulas"] += 1
            tex = sg.latex(it)
            texs.append(tex)
            stats["longest"] = max(stats["longest"], len(tex))
            err = reparse_error(it, point, tex, declare=decl)
            if err:
                stats["reparse_fail"] += 1
                reparse.setdefault(_kind(err), err)
                every.append(f"[parse back] {err}\n  expr: {it!r}")
        for x, (g, _) in zip(xs, items[1:]):
            stats["gradients"] += 1
            if stats["gradients"] % check_every:
                continue
            stats["checked"] += 1
            try:
                v = sg.check(sg.latex(g), y, x, seed=point % 1000)
                ok, why = v.ok, str(v)
            except sg.SymgradError as exc:
                ok, why = False, f"{type(exc).__name__}: {exc}"
            if not ok:
                stats["check_wrong"] += 1
                checks.setdefault(why.splitlines()[0][:90], f"{sg.latex(g)}\n  {why}")
                every.append(f"[check] {sg.latex(g)}\n  of {y!r} wrt {x!r}\n  {why}")

    if seed is not None:
        one = hypothesis_seed(seed)(one)
    t = time.perf_counter()
    one()
    stats["seconds_reparse_check"] = round(time.perf_counter() - t)
    compile_bad: list[tuple[str, str]] = []
    if HAS_PDFLATEX:
        t = time.perf_counter()
        for i in range(0, len(texs), BATCH):
            batch = texs[i:i + BATCH]
            compile_bad += [(msg, batch[j] if j >= 0 else "") for j, msg in compile_errors(batch)]
        stats["seconds_compile"] = round(time.perf_counter() - t)
    stats["compile_fail"] = len(compile_bad)
    every += [f"[compile] {msg}: {tex}" for msg, tex in compile_bad]
    return {"stats": dict(stats), "reparse": reparse, "checks": checks,
            "compile": compile_bad[:5], "pdflatex": HAS_PDFLATEX, "every": every}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000, help="random objectives")
    ap.add_argument("--check-every", type=int, default=10, help="check() every k-th gradient")
    ap.add_argument("--seed", type=int, default=None,
                    help="draw other examples (default: the derandomized ones)")
    ap.add_argument("--dump", type=Path, default=None, help="write every failure to this file")
    args = ap.parse_args(argv)
    out = run(args.count, args.check_every, args.seed)
    if args.dump is not None:
        args.dump.write_text("\n\n".join(out["every"]) + "\n")
    s = out["stats"]
    print(f"{s['objectives']} objectives, {s['formulas']} printed formulas "
          f"({s['gradients']} gradients), {s['checked']} checked")
    print(f"(a) do not parse back to their value: {s.get('reparse_fail', 0)} "
          f"(the longest formula: {s['longest']} characters)")
    for kind, ex in out["reparse"].items():
        print(f"    {kind}\n      e.g. {ex.splitlines()[0][:160]}")
    print(f"(b) do not compile: {s['compile_fail']}"
          + ("" if out["pdflatex"] else " (pdflatex not installed: not run)"))
    for msg, tex in out["compile"]:
        print(f"    {msg}: {tex[:160]}")
    print(f"(c) wrong check verdicts: {s.get('check_wrong', 0)} of {s['checked']}")
    for kind, ex in out["checks"].items():
        print(f"    {kind}\n      e.g. {ex.splitlines()[0][:160]}")
    print(f"time: {s['seconds_reparse_check']} s parse+check, {s.get('seconds_compile', 0)} s "
          "pdflatex")
    return out


if __name__ == "__main__":
    main()
