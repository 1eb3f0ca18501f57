"""How derivation time and result size scale with depth: the gradient of an L-layer tanh MLP.

The network (batch on rows, NumPy broadcasting for the biases):

    H_0 = X                       X: (N, d),  Y: (N, o)
    Z_l = H_{l-1} W_l + b_l       b_l = sg.vector("b<l>", width) broadcast down the N rows
    H_l = tanh(Z_l)               for the hidden layers l < L; the last layer is linear
    loss = sum((Z_L - Y)^2)       squared error

Every Z_l and H_l is named (sg.name), so printed results refer to them. For L = 1, 2, 4, ..., 64
we time sg.grad(loss, [W_1, b_1, ..., W_L, b_L]) (simplified, the default, and with
simplify=False) and sg.latex of every gradient, and measure the result size: DAG nodes of all
gradients together (symgrad.node.topo) and the total length of their LaTeX.

SymPy 1.14's MatrixSymbol.diff is timed on the equivalent explicit expression
tr((Z_L - Y)^T (Z_L - Y)) with Z_l = H_{l-1} W_l + 1_N b_l^T (OneMatrix for the broadcast,
applyfunc(tanh) for the activation), in a subprocess with a timeout, and its results are
checked numerically against symgrad's. Where SymPy cannot differentiate the tanh MLP, the linear
network (the same with the tanh removed) is the like-for-like comparison.

Usage:  python benchmarks/derive_scaling.py [--quick] [--no-sympy] [--timeout S] [--repeats K]
                                           [--timer wall|cpu] [--strict]
The targets are wall-clock; on a busy machine --timer cpu gives figures that load does not
inflate.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LAYERS_FULL = (1, 2, 4, 8, 16, 32, 64)
LAYERS_QUICK = (1, 2, 4, 8)
SYMPY_MAX_L_QUICK = 2
GROWTH_MAX = 2.3  # the 64-layer case at most 2.3x the 32-layer one
DERIVE_MAX_S = 1.0  # the 64-layer gradient derived in under 1 s
SPEEDUP_MIN = 10.0  # symgrad at least 10x faster than SymPy
NUMERIC_SIZES = {"N": 5, "d": 3, "h": 4, "o": 2}  # all different: a transposition cannot hide
VERIFY_MAX_L = 8  # numeric cross-check of SymPy's results up to this depth
ACTIVATION_NOTE = "tanh on the hidden layers, last layer linear"


# ---- the network, in symgrad and in SymPy -------------------------------------------------------
def layer_sizes(L: int) -> list[tuple[str, str]]:
    """(fan-in, fan-out) size names of each layer: d -> h -> ... -> h -> o."""
    return [("d" if k == 1 else "h", "o" if k == L else "h") for k in range(1, L + 1)]


def build_symgrad(L: int, activation: bool = True):
    """The loss and the parameters [W_1, b_1, ..., W_L, b_L] as symgrad expressions."""
    import symgrad as sg

    N, d, h, o = sg.dims("N d h o")
    size = {"d": d, "h": h, "o": o}
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, o)
    H, params = X, []
    for k, (fan_in, fan_out) in enumerate(layer_sizes(L), start=1):
        W = sg.matrix(f"W{k}", size[fan_in], size[fan_out])
        b = sg.vector(f"b{k}", size[fan_out])
        params += [W, b]
        Z = sg.name(f"Z_{k}", H @ W + b)
        if k < L:
            H = sg.name(f"H_{k}", sg.tanh(Z)) if activation else Z
    return sg.sum((Z - Y) ** 2), params


def build_sympy(L: int, activation: bool = True):
    """The same loss as a SymPy matrix expression: tr(R^T R), R = Z_L - Y, Z_l = H W + 1 b^T."""
    import sympy

    N, d, h, o = sympy.symbols("N d h o", positive=True, integer=True)
    size = {"d": d, "h": h, "o": o}
    X, Y = sympy.MatrixSymbol("X", N, d), sympy.MatrixSymbol("Y", N, o)
    ones = sympy.OneMatrix(N, 1)
    H, params = X, []
    for k, (fan_in, fan_out) in enumerate(layer_sizes(L), start=1):
        W = sympy.MatrixSymbol(f"W{k}", size[fan_in], size[fan_out])
        b = sympy.MatrixSymbol(f"b{k}", size[fan_out], 1)
        params += [W, b]
        Z = H * W + ones * b.T
        if k < L:
            H = Z.applyfunc(sympy.tanh) if activation else Z
    R = Z - Y
    return sympy.Trace(R.T * R), params


def numeric_env(L: int) -> dict[str, np.ndarray]:
    """Random values of X, Y and the parameters at NUMERIC_SIZES (biases 1-D, as in symgrad)."""
    rng = np.random.default_rng(1000 + L)
    n = NUMERIC_SIZES
    env = {"X": rng.standard_normal((n["N"], n["d"])), "Y": rng.standard_normal((n["N"], n["o"]))}
    for k, (fan_in, fan_out) in enumerate(layer_sizes(L), start=1):
        env[f"W{k}"] = rng.standard_normal((n[fan_in], n[fan_out])) / math.sqrt(n[fan_in])
        env[f"b{k}"] = 0.5 * rng.standard_normal(n[fan_out])
    return env


# ---- timing -------------------------------------------------------------------------------------
TIMERS = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = time.perf_counter  # set by main() (--timer) and by the SymPy worker


def _set_timer(name: str) -> None:
    global _clock
    _clock = TIMERS[name]


def _clear_caches() -> None:
    from sympy.core.cache import clear_cache

    clear_cache()  # symgrad's scalar algebra and SymPy both use SymPy's cache: start cold
    gc.collect()


def best_time(fn, repeats: int):
    """Best time (wall or CPU: --timer) of `repeats` cold calls; each call's result is dropped
    before the next, so interned nodes of a previous result cannot make a later run cheaper."""
    best, out = math.inf, None
    for _ in range(repeats):
        out = None
        _clear_caches()
        t0 = _clock()
        out = fn()
        best = min(best, _clock() - t0)
    return best, out


def measure_symgrad(L: int, activation: bool, repeats: int) -> dict:
    import symgrad as sg
    from symgrad.node import topo

    loss, params = build_symgrad(L, activation)
    raw_s, _ = best_time(lambda: sg.grad(loss, params, simplify=False), repeats)
    derive_s, grads = best_time(lambda: sg.grad(loss, params), repeats)
    print_s, texts = best_time(lambda: sg.latex(grads, inline=True), repeats)
    # The printed result that names the shared backward terms once (Z̄_l, H̄_l): a derivation.
    doc_s, doc = best_time(lambda: sg.derive(loss, params).latex(), repeats)
    return {
        "doc_s": doc_s,
        "doc_chars": len(doc),
        "L": L,
        "derive_s": derive_s,
        "raw_s": raw_s,
        "print_s": print_s,
        "nodes": len(topo(grads)),
        "chars": sum(len(t) for t in texts),
        "max_chars": max(len(t) for t in texts),
        "grads": grads,
        "params": params,
        "texts": texts,
    }


# ---- SymPy, in a subprocess with a timeout ------------------------------------------------------
class _Timeout(BaseException):  # BaseException: SymPy's `except Exception` cannot swallow it
    pass


def _on_alarm(signum, frame):
    raise _Timeout


def _sympy_eval(e, env: dict, sizes: dict):
    """NumPy value of a SymPy matrix (or array) expression; strict about shapes."""
    import sympy
    from sympy.matrices import expressions as mx
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.diagonal import DiagMatrix
    from sympy.tensor.array import expressions as ax

    def size(s):
        return int(sympy.sympify(s).subs(sizes))

    def ev(e):
        if isinstance(e, mx.MatrixSymbol):
            return env[e.name]
        if isinstance(e, mx.OneMatrix):
            return np.ones((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, mx.ZeroMatrix):
            return np.zeros((size(e.shape[0]), size(e.shape[1])))
        if isinstance(e, mx.Identity):
            return np.eye(size(e.shape[0]))
        if isinstance(e, (mx.MatAdd, ax.ArrayAdd)):
            vals = [ev(a) for a in e.args]
            if any(np.shape(v) != np.shape(vals[0]) for v in vals):
                raise ValueError(f"sum of shapes {[np.shape(v) for v in vals]}")
            return sum(vals[1:], vals[0])
        if isinstance(e, mx.MatMul):
            out = 1.0
            for a in e.args:
                v = ev(a)
                out = out * v if np.ndim(v) == 0 or np.ndim(out) == 0 else out @ v
            return out
        if isinstance(e, mx.Transpose):
            return ev(e.arg).T
        if isinstance(e, mx.HadamardProduct):
            vals = [ev(a) for a in e.args]
            if any(v.shape != vals[0].shape for v in vals):
                raise ValueError(f"Hadamard product of shapes {[v.shape for v in vals]}")
            return np.prod(vals, axis=0)
        if isinstance(e, mx.HadamardPower):
            return ev(e.base) ** float(e.exp)
        if isinstance(e, ElementwiseApplyFunction):
            x = sympy.Dummy("x")
            f = sympy.lambdify(x, e.function(x), "numpy")
            return f(ev(e.expr))
        if isinstance(e, mx.Trace):
            return np.trace(ev(e.arg))
        if isinstance(e, DiagMatrix):
            return np.diag(ev(e.args[0]).ravel())
        if isinstance(e, ax.ArrayDiagonal) and e.diagonal_indices == ((0, 1),):
            return np.diagonal(ev(e.expr))
        if isinstance(e, sympy.Expr) and e.is_number:
            return float(e)
        raise TypeError(f"no numeric rule for {type(e).__name__}")

    return ev(e)


def sympy_worker(spec: dict) -> dict:
    """Runs in a subprocess: differentiate with SymPy, time it, evaluate the results."""
    import sympy
    from sympy.core.cache import clear_cache
    from sympy.matrices.expressions import MatrixExpr

    L, activation, timeout = spec["L"], spec["activation"], spec["timeout"]
    _set_timer(spec.get("timer", "wall"))
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(int(math.ceil(timeout)))  # building the expression is guarded too
    try:
        t0 = _clock()
        loss, params = build_sympy(L, activation)
        build_s = _clock() - t0
    except _Timeout:
        return {"status": "timeout", "time": timeout, "phase": "building the expression"}
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)

    def derive():
        out = []
        for p in params:
            try:
                out.append(loss.diff(p))
            except Exception as exc:  # noqa: BLE001 -- a failure is a result to report
                out.append(exc)
        return out

    times, results, spent = [], None, 0.0
    while len(times) < spec["repeats"] and spent < timeout / 4:
        clear_cache()
        gc.collect()
        if hasattr(signal, "SIGALRM"):
            signal.alarm(int(math.ceil(timeout)))
        try:
            t0 = _clock()
            results = derive()
            dt = _clock() - t0
        except _Timeout:
            return {"status": "timeout", "time": timeout, "phase": "differentiating"}
        finally:
            if hasattr(signal, "SIGALRM"):
                signal.alarm(0)
        times.append(dt)
        spent += dt

    env = numeric_env(L) if spec["verify"] else None
    if env is not None:  # SymPy's biases are (n, 1) columns
        env = {k: v.reshape(-1, 1) if v.ndim == 1 else v for k, v in env.items()}
    sizes = {sympy.Symbol(k, positive=True, integer=True): v for k, v in NUMERIC_SIZES.items()}
    grads = []
    for p, r in zip(params, results, strict=True):
        g = {"param": p.name}
        if isinstance(r, Exception):
            g["kind"] = "error"
            g["error"] = f"{type(r).__name__}: {str(r)[:80]}"
        else:
            g["kind"] = "matrix" if isinstance(r, MatrixExpr) else "array"
            g["sympy"] = str(r) if len(str(r)) < 400 else str(r)[:400] + "..."
            if env is not None:
                try:
                    g["value"] = np.asarray(_sympy_eval(r, env, sizes), dtype=float).tolist()
                except Exception as exc:  # noqa: BLE001
                    g["eval_error"] = f"{type(exc).__name__}: {str(exc)[:80]}"
        grads.append(g)
    return {"status": "done", "time": min(times), "runs": len(times), "grads": grads,
            "build_s": build_s}


def run_sympy(L: int, activation: bool, timeout: float, verify: bool, repeats: int = 3) -> dict:
    spec = {"L": L, "activation": activation, "timeout": timeout, "verify": verify,
            "repeats": repeats, "timer": next(k for k, f in TIMERS.items() if f is _clock)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--sympy-worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=2 * timeout + 60)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "time": timeout}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"status": "crashed", "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def judge_sympy(res: dict, sg_row: dict) -> list[str]:
    """Per gradient: correct / WRONG / ill-shaped / array only / error / unverified."""
    import symgrad as sg

    verdicts = []
    ref = None
    if any("value" in g or "eval_error" in g for g in res["grads"]):
        ref = sg.evaluate(sg_row["grads"], numeric_env(sg_row["L"]))
    for i, g in enumerate(res["grads"]):
        if g["kind"] == "error":
            verdicts.append("error")
        elif "eval_error" in g:
            bad_shape = g["eval_error"].split(":")[0] in ("ValueError", "ShapeError")
            verdicts.append("ill-shaped" if bad_shape else "unverified")
        elif "value" not in g:
            verdicts.append("unverified")
        else:
            v, want = np.asarray(g["value"]), np.asarray(ref[i])
            same_shape = v.shape == want.shape or (want.ndim == 1 and v.shape == (want.size, 1))
            ok = same_shape and np.allclose(v.reshape(want.shape), want, rtol=1e-8, atol=1e-10)
            verdicts.append(("correct" if ok else "WRONG") + ("" if g["kind"] == "matrix"
                                                              else " (array expr)"))
    return verdicts


def summarize(verdicts: list[str]) -> str:
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v] = counts.get(v, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items())


# ---- report -------------------------------------------------------------------------------------
def _ratio(a: float, b: float) -> str:
    return f"{a / b:5.2f}x" if b else "   -  "


def print_symgrad_table(rows: list[dict]) -> None:
    head = (f"{'L':>3} {'derive ms':>10} {'x prev':>7} {'no-simp ms':>10} {'print ms':>9} "
            f"{'x prev':>7} {'DAG nodes':>9} {'x prev':>7} {'LaTeX chars':>11} {'x prev':>7} "
            f"{'largest grad chars':>18} {'derivation ms':>13} {'derivation chars':>16} "
            f"{'x prev':>7}")
    print(head)
    print("-" * len(head))
    prev = None
    for r in rows:
        p = prev or {}
        print(f"{r['L']:>3} {r['derive_s'] * 1e3:>10.1f} "
              f"{_ratio(r['derive_s'], p.get('derive_s', 0)):>7} {r['raw_s'] * 1e3:>10.1f} "
              f"{r['print_s'] * 1e3:>9.1f} {_ratio(r['print_s'], p.get('print_s', 0)):>7} "
              f"{r['nodes']:>9} {_ratio(r['nodes'], p.get('nodes', 0)):>7} "
              f"{r['chars']:>11} {_ratio(r['chars'], p.get('chars', 0)):>7} "
              f"{r['max_chars']:>18} {r['doc_s'] * 1e3:>13.1f} {r['doc_chars']:>16} "
              f"{_ratio(r['doc_chars'], p.get('doc_chars', 0)):>7}")
        prev = r


def print_sympy_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    head = f"{'L':>3} {'SymPy ms':>10} {'symgrad ms':>10} {'SymPy/symgrad':>13}  SymPy's gradients"
    print(head)
    print("-" * (len(head) + 30))
    for r in rows:
        sym = r["sympy"]
        sg_ms = r["symgrad_s"] * 1e3
        if sym["status"] == "done":
            ratio = f"{r['sympy_s'] / r['symgrad_s']:>12.1f}x"
            if not r["comparable"]:
                ratio = ratio[1:] + "*"
            what = (summarize(r["verdicts"]) + f" (best of {sym['runs']}; building the "
                    f"expression took {sym['build_s'] * 1e3:.0f} ms more)")
            print(f"{r['L']:>3} {r['sympy_s'] * 1e3:>10.1f} {sg_ms:>10.1f} {ratio:>13}  {what}")
        elif sym["status"] == "timeout":
            ratio = f">{sym['time'] / r['symgrad_s']:.0f}x"
            print(f"{r['L']:>3} {'> ' + format(sym['time'] * 1e3, '.0f'):>10} {sg_ms:>10.1f} "
                  f"{ratio:>13}  timed out after {sym['time']:.0f} s "
                  f"{sym.get('phase', '')} (larger L skipped)")
        else:
            print(f"{r['L']:>3} {'-':>10} {sg_ms:>10.1f} {'-':>13}  SymPy crashed: "
                  f"{sym.get('error', '')}")


def compare_with_sympy(layers, activation: bool, timeout: float, repeats: int,
                       sg_rows: dict[int, dict]) -> list[dict]:
    out = []
    for L in layers:
        sg_row = sg_rows.get(L) or measure_symgrad(L, activation, repeats)
        res = run_sympy(L, activation, timeout, verify=L <= VERIFY_MAX_L, repeats=repeats)
        row = {"L": L, "sympy": res, "symgrad_s": sg_row["derive_s"], "comparable": False}
        if res["status"] == "done":
            row["sympy_s"] = res["time"]
            row["verdicts"] = judge_sympy(res, sg_row)
            row["comparable"] = all(v == "correct" for v in row["verdicts"])
        out.append(row)
        if res["status"] != "done":
            break
    return out


def _load() -> str:
    try:
        loads = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
    return loads + " (timings are noisy when it nears the CPU count)"


def check(label: str, passed: bool | None, detail: str) -> tuple[str, bool | None]:
    word = {True: "PASS", False: "FAIL", None: "SKIP"}[passed]
    print(f"{word}  {label}: {detail}")
    return label, passed


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="L up to 8 (a smoke test)")
    ap.add_argument("--no-sympy", action="store_true", help="skip the SymPy comparison")
    ap.add_argument("--timeout", type=float, default=60.0, help="per SymPy run, seconds")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    ap.add_argument("--timer", choices=sorted(TIMERS), default="wall",
                    help="wall clock (the targets' measure) or this process's CPU time (robust "
                         "to other load on the machine; the SymPy timeout stays wall clock)")
    ap.add_argument("--strict", action="store_true", help="exit status 1 if a target is missed")
    ap.add_argument("--sympy-worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sympy_worker:
        print(json.dumps(sympy_worker(json.loads(args.sympy_worker))))
        return {}

    import sympy

    import symgrad as sg

    _set_timer(args.timer)
    layers = LAYERS_QUICK if args.quick else LAYERS_FULL
    print(f"symgrad {sg.__version__}, SymPy {sympy.__version__}, Python "
          f"{sys.version.split()[0]}; {args.timer} time, best of {args.repeats} cold runs; "
          f"{os.cpu_count()} CPUs, load average {_load()}")
    print(f"Network: Z_l = H_(l-1) W_l + b_l (b_l broadcast down the N rows), H_l = tanh(Z_l), "
          f"loss = sum((Z_L - Y)^2); {ACTIVATION_NOTE}.")
    print("Timed: sg.grad(loss, [W_1, b_1, ..., W_L, b_L]) (simplified, and simplify=False), "
          "sg.latex of every gradient, sg.derive(...).latex().\nSize: DAG nodes of all gradients "
          "together (topo), total LaTeX length of all gradients, of the largest one, and of the "
          "derivation.\n")

    rows = [measure_symgrad(L, True, args.repeats) for L in layers]
    print_symgrad_table(rows)
    two = next(r for r in rows if r["L"] == 2)
    print("\nThe L = 2 gradients as printed (LaTeX):")
    for p, t in zip(two["params"], two["texts"], strict=True):
        print(f"  dL/d{p.params[0]} = {t}")

    results: dict = {"rows": [{k: v for k, v in r.items() if k not in ("grads", "params", "texts")}
                              for r in rows], "sympy_tanh": [], "sympy_linear": [], "checks": []}
    last, before = rows[-1], rows[-2]
    pair = f"{last['L']}/{before['L']}"
    print(f"\n{pair} ratios: derive {last['derive_s'] / before['derive_s']:.2f}x, "
          f"no-simplify {last['raw_s'] / before['raw_s']:.2f}x, "
          f"print {last['print_s'] / before['print_s']:.2f}x, "
          f"DAG nodes {last['nodes'] / before['nodes']:.2f}x, "
          f"LaTeX chars {last['chars'] / before['chars']:.2f}x, "
          f"largest gradient {last['max_chars'] / before['max_chars']:.2f}x, "
          f"derivation LaTeX {last['doc_chars'] / before['doc_chars']:.2f}x")
    print("(The 2L gradients printed one by one, each self-contained, repeat the backward chain:"
          " their total is quadratic in L by nature; sg.derive prints each shared term once.)")

    if not args.no_sympy:
        sym_layers = [L for L in layers if not args.quick or L <= SYMPY_MAX_L_QUICK]
        by_l = {r["L"]: r for r in rows}
        tanh = compare_with_sympy(sym_layers, True, args.timeout, args.repeats, by_l)
        print_sympy_table(
            "SymPy MatrixSymbol.diff on the same tanh MLP, tr((Z_L - Y)^T (Z_L - Y)) with "
            "Z_l = H_(l-1) W_l + 1_N b_l^T, H_l = applyfunc(tanh)(Z_l), all 2L gradients\n"
            "(SymPy's results checked numerically against symgrad's at N=5, d=3, h=4, o=2; "
            "* = not like-for-like, SymPy did not give every gradient correctly)", tanh)
        linear = compare_with_sympy(sym_layers, False, args.timeout, args.repeats, {})
        print_sympy_table(
            "SymPy MatrixSymbol.diff vs symgrad on the linear network (the same with tanh "
            "removed: Z_l = Z_(l-1) W_l + 1_N b_l^T), all 2L gradients; L = 1 is the affine "
            "loss tr((X W + 1 b^T - Y)^T (X W + 1 b^T - Y)) w.r.t. W and b", linear)
        results["sympy_tanh"], results["sympy_linear"] = (
            [{k: v for k, v in r.items()} for r in tanh], [dict(r) for r in linear])

    print()
    note = "" if not args.quick else " (quick run: the last pair instead of 64/32)"
    checks = results["checks"]
    for label, key in (("derive time grows linearly", "derive_s"),
                       ("DAG nodes grow linearly", "nodes"),
                       ("printed LaTeX length grows linearly (sg.derive: every shared "
                        "backward term printed once)", "doc_chars")):
        r = last[key] / before[key]
        checks.append(check(label, r <= GROWTH_MAX,
                            f"{pair} = {r:.2f}x (target <= {GROWTH_MAX}x){note}"))
    if last["L"] == 64:
        checks.append(check("64-layer gradient derived in under 1 s",
                            last["derive_s"] < DERIVE_MAX_S,
                            f"{last['derive_s'] * 1e3:.0f} ms (simplified; "
                            f"{last['raw_s'] * 1e3:.0f} ms with simplify=False)"))
    else:
        checks.append(check("64-layer gradient derived in under 1 s", None, "quick run"))
    if not args.no_sympy:
        fair = [r for r in results["sympy_tanh"] + results["sympy_linear"] if r["comparable"]]
        timed_out = [r for r in results["sympy_tanh"] + results["sympy_linear"]
                     if r["sympy"]["status"] == "timeout"]
        ratios = [r["sympy_s"] / r["symgrad_s"] for r in fair]
        ratios += [r["sympy"]["time"] / r["symgrad_s"] for r in timed_out]  # lower bounds
        if ratios:
            worst = min(range(len(ratios)), key=ratios.__getitem__)
            which = (fair + timed_out)[worst]
            kind = "tanh" if which in results["sympy_tanh"] else "linear"
            checks.append(check(
                "symgrad at least 10x faster than SymPy", ratios[worst] >= SPEEDUP_MIN,
                f"smallest ratio {ratios[worst]:.1f}x ({kind} network, L = {which['L']}) over "
                f"{len(ratios)} like-for-like comparisons (SymPy correct on every gradient, "
                f"or timed out)"))
        else:
            checks.append(check("symgrad at least 10x faster than SymPy", None,
                                "no like-for-like comparison"))
    if args.strict and any(p is False for _, p in checks):
        raise SystemExit(1)
    return results


if __name__ == "__main__":
    main()
