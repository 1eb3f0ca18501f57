"""Derivation time against depth, per deep family, and over the test corpus.

Families (sg.grad, simplified, as a user calls it):

    tanh-chain  sum(tanh(tanh(...tanh(x)))) w.r.t. x, x = sg.vector("x", n), depth d
    rnn-bptt    H_t = tanh(X_t W_x + H_(t-1) W_h + b) for t = 1..T, loss sum((H_T V - Y)^2),
                w.r.t. [W_x, W_h, b, V]: back-propagation through T steps
    mlp         the L-layer tanh MLP of benchmarks/derive_scaling.py, w.r.t. all 2L parameters

Each time is the best of --repeats cold runs (the expression rebuilt, SymPy's cache cleared,
the previous result dropped). A family stops growing once one run takes longer than --budget.
The fitted exponent is the slope of log(time) over log(depth) across the last three depths:
1 is linear, 2 quadratic.

The corpus is every problem the tests derive: the derivation examples (tests/test_derivation.py,
the Matrix Cookbook set included), every registry case (sg.grad of each op's test expression),
a layer normalization, and the families at small depths. Each is timed and printed (sg.latex).

Usage:  python benchmarks/derive_depth.py [--quick] [--save FILE] [--compare BEFORE.json]
With --compare, a run saved from another version of symgrad (e.g. main) is set beside this
one: per-family times and exponents before/after, the corpus' largest slowdown, and every
result whose printed form changed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPTHS = {
    "tanh-chain": (25, 50, 100, 200, 400),
    "rnn-bptt": (8, 16, 32, 64, 128),
    "mlp": (4, 8, 16, 32, 64),
}
DEPTHS_QUICK = {"tanh-chain": (10, 20, 40), "rnn-bptt": (4, 8, 16), "mlp": (2, 4, 8)}
CORPUS_DEPTHS = {"tanh-chain": (5, 20), "rnn-bptt": (4, 16), "mlp": (2, 8)}


# ---- the problems ------------------------------------------------------------------------------
def tanh_chain(d: int):
    import symgrad as sg

    x = sg.vector("x", sg.dims("n"))
    e = x
    for _ in range(d):
        e = sg.tanh(e)
    return sg.sum(e), [x]


def rnn_bptt(T: int):
    import symgrad as sg

    N, d, h, o = sg.dims("N d h o")
    Wx, Wh = sg.matrix("W_x", d, h), sg.matrix("W_h", h, h)
    b, V = sg.vector("b", h), sg.matrix("V", h, o)
    H = sg.matrix("H_0", N, h)
    for t in range(1, T + 1):
        H = sg.tanh(sg.matrix(f"X_{t}", N, d) @ Wx + H @ Wh + b)
    return sg.sum((H @ V - sg.matrix("Y", N, o)) ** 2), [Wx, Wh, b, V]


def mlp(L: int):
    return _load("derive_scaling", ROOT / "benchmarks" / "derive_scaling.py").build_symgrad(L)


def layernorm():
    """Layer normalization over the features of each row, back-propagated against dL/dY."""
    import symgrad as sg

    N, d = sg.dims("N d")
    X, gamma, beta = sg.matrix("X", N, d), sg.vector("gamma", d), sg.vector("beta", d)
    C = X - sg.mean(X, axis=1, keepdims=True)
    var = sg.mean(C ** 2, axis=1, keepdims=True)
    return sg.name("Y", C / sg.sqrt(var + 1e-5) * gamma + beta), [X, gamma, beta]


FAMILIES = {"tanh-chain": tanh_chain, "rnn-bptt": rnn_bptt, "mlp": mlp}


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def corpus() -> dict:
    """name -> a function building (y, wrt) afresh (registry cases are built once, by the
    test suite's own collection)."""
    sys.path.insert(0, str(ROOT / "tests"))
    deriv = _load("test_derivation", ROOT / "tests" / "test_derivation.py")
    conf = _load("conftest", ROOT / "tests" / "conftest.py")
    out = {}
    for name, build in deriv.EXAMPLES.items():
        out[f"example/{name}"] = build
    for case in conf.CASES:
        if case.y is not None and case.xs:
            out[f"registry/{case.id}"] = lambda c=case: (c.y, list(c.xs))
    out["model/layernorm"] = layernorm
    for fam, depths in CORPUS_DEPTHS.items():
        for d in depths:
            out[f"family/{fam}-{d}"] = lambda f=FAMILIES[fam], d=d: f(d)
    return out


# ---- timing ------------------------------------------------------------------------------------
_clock = time.process_time  # CPU time: the machine is shared, wall time is load's


def _cold() -> None:
    from sympy.core.cache import clear_cache

    clear_cache()
    node = sys.modules.get("symgrad.node")
    if hasattr(node, "clear_caches"):  # absent from older versions, which had none
        node.clear_caches()
    gc.collect()  # the previous result's interned nodes (and anything memoized on them) go


def time_grad(build, repeats: int, budget: float = math.inf):
    """Best CPU time of sg.grad(y, wrt) over cold runs, and the last result's LaTeX."""
    import symgrad as sg

    best, text = math.inf, None
    for _ in range(repeats):
        _cold()
        y, wrt = build()
        if wrt is None:  # a non-scalar example with no variable named: its first variable
            wrt = [next(n for n in _variables(y))]
        t0 = _clock()
        g = sg.grad(y, wrt)
        best = min(best, _clock() - t0)
        text = sg.latex(g)
        del y, wrt, g
        if best > budget / 4:
            break
    return best, text


def _variables(y):
    from symgrad.node import topo
    from symgrad.ops import core

    return [n for n in topo(y) if n.op is core.VAR and not core.is_upstream(n)]


def exponent(depths, times) -> float:
    """Least-squares slope of log t over log depth (the last three points)."""
    xs = [math.log(d) for d in depths[-3:]]
    ys = [math.log(t) for t in times[-3:]]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def run(quick: bool, repeats: int, budget: float) -> dict:
    out: dict = {"families": {}, "corpus": {}}
    for fam, depths in (DEPTHS_QUICK if quick else DEPTHS).items():
        rows = []
        for d in depths:
            t, _ = time_grad(lambda f=FAMILIES[fam], d=d: f(d), repeats, budget)
            rows.append((d, t))
            print(f"  {fam:<11} {d:>4}  {t * 1e3:9.1f} ms", flush=True)
            if t > budget:
                break
        out["families"][fam] = rows
    for name, build in corpus().items():
        t, text = time_grad(build, 1 if quick else repeats)
        out["corpus"][name] = {"time": t, "latex": text}
    return out


# ---- report ------------------------------------------------------------------------------------
def _ms(t) -> str:
    return "-" if t is None else f"{t * 1e3:.1f}"


def report(after: dict, before: dict | None) -> dict:
    import symgrad as sg

    print(f"symgrad from {Path(sg.__file__).parent}; CPU time, best of cold runs\n")
    fits = {}
    for fam, rows in after["families"].items():
        old = dict(before["families"].get(fam, [])) if before else {}
        print(f"{fam}: depth, ms" + (" before, ms after, speed-up" if before else ""))
        for d, t in rows:
            b = old.get(d)
            extra = f" {_ms(b):>9} -> {_ms(t):>9}  {b / t:6.1f}x" if b else f" {_ms(t):>9}"
            print(f"  {d:>5}{extra}")
        ds, ts = [d for d, _ in rows], [t for _, t in rows]
        fits[fam] = exponent(ds, ts) if len(rows) >= 3 else None
        line = f"  fitted exponent (last 3 depths): {fits[fam]:.2f}" if fits[fam] else ""
        if old and len(old) >= 3:
            od = sorted(old)
            line += f"  (before: {exponent(od, [old[d] for d in od]):.2f})"
        print(line)
    times = {k: v["time"] for k, v in after["corpus"].items()}
    med = statistics.median(times.values())
    slowest = sorted(times, key=times.get, reverse=True)[:5]
    print(f"\ncorpus: {len(times)} problems, median {_ms(med)} ms, slowest: "
          + ", ".join(f"{k} {_ms(times[k])} ms" for k in slowest))
    out = {"fits": fits, "median": med}
    if before:
        pairs = [(k, before["corpus"][k]["time"], t) for k, t in times.items()
                 if k in before["corpus"]]
        # Slowdowns under a millisecond are timer noise, not work: floor both at 1 ms.
        ratio = {k: max(t, 1e-3) / max(b, 1e-3) for k, b, t in pairs}
        worst = max(ratio, key=ratio.get)
        b_med = statistics.median(b for _, b, _ in pairs)
        print(f"before: median {_ms(b_med)} ms; largest slowdown {ratio[worst]:.2f}x ({worst}: "
              f"{_ms(before['corpus'][worst]['time'])} -> {_ms(times[worst])} ms); total "
              f"{sum(b for _, b, _ in pairs):.2f} s -> {sum(t for _, _, t in pairs):.2f} s")
        changed = [k for k, _, _ in pairs
                   if before["corpus"][k]["latex"] != after["corpus"][k]["latex"]]
        print(f"printed results changed: {len(changed)} of {len(pairs)}")
        for k in changed:
            print(f"  {k}\n    before: {before['corpus'][k]['latex']}\n"
                  f"    after:  {after['corpus'][k]['latex']}")
        out.update(max_slowdown=ratio[worst], changed=changed)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small depths, one run each")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds; stop a family past it")
    ap.add_argument("--save", help="write this run's figures and printed results (JSON)")
    ap.add_argument("--compare", help="a run saved by --save to set beside this one")
    args = ap.parse_args(argv)
    after = run(args.quick, args.repeats, args.budget)
    if args.save:
        Path(args.save).write_text(json.dumps(after))
    before = json.loads(Path(args.compare).read_text()) if args.compare else None
    print()
    return {**after, **report(after, before)}


if __name__ == "__main__":
    main()
