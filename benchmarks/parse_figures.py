"""Figures for LaTeX input (issue 4): parse time, check time, fuzzing, round trips.

    python benchmarks/parse_figures.py            # full run
    python benchmarks/parse_figures.py --quick    # a smaller run (used by the tests)

Prints, and returns from main():
- the median parse time per expression over the test corpus (tests/test_parse_corpus.py),
  and for a 2 KB expression (target under 5 ms for typical input);
- the time of check() for the founding example, the bias gradient (target under 1 s);
- how many fuzzed inputs (random token soup and mutated corpus entries) were tried, and how
  many escaped as an exception that is not a SymgradError (target 0);
- how many random printable expressions parse back to their value, and to themselves.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import warnings  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.latex_in.build import LatexAssumptionWarning  # noqa: E402

warnings.simplefilter("ignore", LatexAssumptionWarning)  # the corpus's softmax of a matrix
from test_parse_corpus import CORPUS, SHAPES  # noqa: E402
from test_parse_fuzz import PIECES  # noqa: E402

DECLS = SHAPES + ", lambda: scalar"


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def two_kb_expression() -> str:
    terms = [r"A x", r"\sigma(B x) \odot y", r"\frac{1}{2} A^\top x", r"\tanh(S^{-1} y)",
             r"(I_n - A) \operatorname{diag}(x) y", r"\|x\|_2^2 \, a", r"x^\top y \, B^\top a"]
    out, i = [], 0
    while len(" + ".join(out)) < 2048:
        out.append(terms[i % len(terms)])
        i += 1
    return " + ".join(out)


def parse_times(repeats: int) -> dict:
    sg.parse(CORPUS[0], DECLS)  # grammar built once (cached): not part of a parse
    per = [_median_time(lambda t=t: sg.parse(t, DECLS), repeats) for t in CORPUS]
    big = two_kb_expression()
    return {"corpus": len(CORPUS), "median_ms": 1e3 * statistics.median(per),
            "max_ms": 1e3 * max(per), "big_chars": len(big),
            "big_ms": 1e3 * _median_time(lambda: sg.parse(big, DECLS), repeats)}


def check_time(repeats: int) -> dict:
    args = (r"\frac{\partial L}{\partial f} \mathbf{1}_k", "f = W X + b", "b",
            "W: n×m, X: m×k, b: n×1")
    t = time.perf_counter()
    v = sg.check(*args)
    first = time.perf_counter() - t
    assert v.ok, str(v)
    return {"first_s": first, "median_s": _median_time(lambda: sg.check(*args), repeats),
            "samples": v.samples, "bindings": v.bindings}


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        i = rng.randint(0, len(text))
        how = rng.choice(("delete", "insert", "replace", "swap"))
        if how == "delete":
            text = text[:i] + text[i + rng.randint(1, 5):]
        elif how == "insert":
            text = text[:i] + rng.choice(PIECES) + text[i:]
        elif how == "replace":
            text = text[:i] + rng.choice(PIECES) + text[i + 1:]
        else:
            a, b = sorted((i, rng.randint(0, len(text))))
            text = text[:a] + text[b:] + text[a:b]
    return text


def fuzz(count: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    escaped: list[tuple[str, str]] = []
    parsed = refused = 0
    slowest = 0.0
    for i in range(count):
        if i % 2:
            text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        else:
            text = _mutate(rng.choice(CORPUS), rng)
        t = time.perf_counter()
        try:
            sg.parse(text, DECLS)
            parsed += 1
        except sg.SymgradError:
            refused += 1
        except Exception as exc:  # noqa: BLE001 -- counting exactly these is the point
            escaped.append((text, repr(exc)))
        slowest = max(slowest, time.perf_counter() - t)
    return {"tried": count, "parsed": parsed, "refused": refused, "escaped": len(escaped),
            "examples": escaped[:5], "slowest_ms": 1e3 * slowest}


def round_trips(count: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from strategies import expressions, numeric_point

    from symgrad.numeric import variables

    stats = {"tried": 0, "value": 0, "identical": 0, "errors": 0}

    @settings(max_examples=count, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(expressions())
    def run(e):
        stats["tried"] += 1
        try:
            got = sg.parse(sg.latex(e), variables(e), shape=e.shape)
        except sg.SymgradError:
            stats["errors"] += 1
            return
        stats["identical"] += got is e
        sizes, env = numeric_point([e], 0)
        a, b = sg.evaluate(got, env, sizes), sg.evaluate(e, env, sizes)
        stats["value"] += bool(a.shape == b.shape and np.allclose(a, b, equal_nan=True))

    run()
    return stats


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and fuzz inputs")
    args = ap.parse_args(argv)
    repeats, nfuzz, nrt = (3, 500, 30) if args.quick else (15, 20000, 600)
    res = {"parse": parse_times(repeats), "check": check_time(repeats), "fuzz": fuzz(nfuzz),
           "roundtrip": round_trips(nrt)}
    p, c, f, r = res["parse"], res["check"], res["fuzz"], res["roundtrip"]
    res["load"] = os.getloadavg()[0]
    print(f"(load average {res['load']:.1f} on {os.cpu_count()} cores: times scale with it)")
    print(f"parse: median {p['median_ms']:.2f} ms per expression over {p['corpus']} corpus "
          f"entries (slowest {p['max_ms']:.2f} ms); {p['big_chars']}-character expression: "
          f"{p['big_ms']:.2f} ms")
    print(f"check (founding example, bias gradient): {c['median_s']:.3f} s median "
          f"({c['first_s']:.3f} s first call; {c['samples']} samples, {c['bindings']} size "
          "bindings)")
    print(f"fuzz: {f['tried']} inputs ({f['parsed']} parsed, {f['refused']} refused with a "
          f"symgrad error), {f['escaped']} escaped as other exceptions; slowest "
          f"{f['slowest_ms']:.1f} ms")
    for text, exc in f["examples"]:
        print(f"  escaped: {text!r}: {exc}")
    print(f"round trip: {r['tried']} random expressions: {r['value']} parse back to their "
          f"value, {r['identical']} to the identical node, {r['errors']} refused")
    return res


if __name__ == "__main__":
    main()
