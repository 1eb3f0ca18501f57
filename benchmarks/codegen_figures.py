"""Figures for generated code (issue 6): speed against hand-written NumPy and autodiff, FLOPs.

1. MLP: a 2-layer tanh MLP, batch 256, widths 512 (X: 256x512, W1, W2: 512x512, biases
   broadcast down the rows), loss mean((H1 W2 + b2 - Y)^2): the loss and all four gradients by
   the function sg.lambdify generates, by a hand-written NumPy backward pass, and by
   torch.autograd (CPU), in float64 and float32. Target: generated NumPy within 1.1x of the
   hand-written NumPy.
2. FLOPs of the generated gradient code (loss and all gradients) against the generated forward
   pass (the loss alone), counted while the code runs: every matmul (2 m k n), every
   elementwise operation (one per output entry) and every reduction (one per input entry).
   Target: at most 3x (the cheap-gradient bound).
3. Hessians (needs sg.hessian): x^T A x at n = 2048 and the logistic-regression loss
   sum(softplus(X w) - y ⊙ X w) at (n, d) = (2048, 256): the generated NumPy and torch code
   against torch.func.hessian, torch.autograd.functional.hessian and jax.hessian (jitted, when
   JAX is installed). Target: at least 5x faster than torch.func.hessian.

Times are the minimum over rounds that interleave the contenders (robust to other load on the
machine), on one thread by default (BLAS and torch; --threads 0 leaves the libraries' own
defaults); each ratio is measured in one run. Usage:

    python benchmarks/codegen_figures.py [--quick] [--rounds R] [--threads T] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable


def _threads(argv: list[str]) -> int:
    """--threads, read before NumPy is imported (BLAS reads its thread count at import)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


THREADS = _threads(sys.argv[1:]) if __name__ == "__main__" else 0
if THREADS:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(THREADS)

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402

MLP_FULL = {"N": 256, "d": 512, "h": 512, "c": 512}
MLP_QUICK = {"N": 16, "d": 8, "h": 8, "c": 8}
HESS_FULL = {"quad_n": 2048, "logreg_n": 2048, "logreg_d": 256}
HESS_QUICK = {"quad_n": 32, "logreg_n": 64, "logreg_d": 8}
TARGET_MLP = 1.1  # generated NumPy / hand-written NumPy
TARGET_FLOPS = 3.0  # gradient code / forward pass
TARGET_HESSIAN = 5.0  # torch.func.hessian / generated


# ---- timing ------------------------------------------------------------------------------------
def race(fns: dict[str, Callable[[], object]], rounds: int, min_time: float = 0.02,
         budget: float = 20.0) -> dict:
    """Seconds per call of each function: the minimum over `rounds` interleaved rounds, each
    timing a batch of calls long enough (min_time) for the clock. A slow contender stops after
    3 rounds once it has used `budget` seconds."""
    batch = {}
    for name, fn in fns.items():
        fn()  # warm up (allocations, torch and JAX dispatch caches, JIT compilation)
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        batch[name] = max(1, int(min_time / max(dt, 1e-9)))
    best = {name: float("inf") for name in fns}
    spent = dict.fromkeys(fns, 0.0)
    for r in range(rounds):
        for name, fn in fns.items():
            if r >= 3 and spent[name] > budget:
                continue
            t0 = time.perf_counter()
            for _ in range(batch[name]):
                fn()
            dt = time.perf_counter() - t0
            spent[name] += dt
            best[name] = min(best[name], dt / batch[name])
    return best


# ---- FLOP counting: an ndarray that counts what is done to it -----------------------------------
class Counted(np.ndarray):
    """Counts FLOPs: matmul 2 m k n, elementwise 1 per output entry, reductions 1 per input."""

    flops = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raw = [i.view(np.ndarray) if isinstance(i, Counted) else i for i in inputs]
        out = getattr(ufunc, method)(*raw, **kwargs)
        if ufunc is np.matmul:
            a, b = (np.shape(r) for r in raw)
            m = a[0] if len(a) == 2 else 1
            n = b[1] if len(b) == 2 else 1
            Counted.flops += 2 * m * a[-1] * n
        elif method == "reduce":
            Counted.flops += int(np.size(raw[0]))
        else:
            Counted.flops += int(np.size(out))
        return _wrap(out)

    def __array_function__(self, func, types, args, kwargs):
        unwrap = lambda v: v.view(np.ndarray) if isinstance(v, Counted) else v  # noqa: E731
        args = [unwrap(a) for a in args]
        kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        out = func(*args, **kwargs)
        n = np.shape(args[0])[-1] if args and np.ndim(args[0]) else 1
        lu = 2 * n**3 / 3
        cubic = {"solve": lu, "inv": 3 * lu, "slogdet": lu, "det": lu}
        Counted.flops += int(cubic.get(func.__name__, 0))
        return _wrap(out)


def _wrap(out):
    if isinstance(out, tuple):
        return tuple(_wrap(o) for o in out)
    return out.view(Counted) if isinstance(out, np.ndarray) else out


def count_flops(fn: Callable, args: list[np.ndarray]) -> int:
    Counted.flops = 0
    fn(*[np.asarray(a).view(Counted) for a in args])
    return Counted.flops


# ---- 1 and 2: the MLP ---------------------------------------------------------------------------
def mlp_problem():
    N, d, h, c = sg.dims("N d h c")
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
    W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
    W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)
    H1 = sg.name("H1", sg.tanh(X @ W1 + b1))
    Z2 = sg.name("Z2", H1 @ W2 + b2)
    L = sg.mean((Z2 - Y) ** 2)
    params = [W1, b1, W2, b2]
    return L, params, [*params, X, Y]


def hand_written(W1, b1, W2, b2, X, Y):
    """The backward pass an expert writes by hand."""
    H1 = np.tanh(X @ W1 + b1)
    R = H1 @ W2 + b2 - Y
    L = np.mean(R * R)
    dZ2 = (2.0 / R.size) * R
    dW2 = H1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * (1.0 - H1 * H1)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return L, dW1, db1, dW2, db2


def mlp_values(sizes: dict, dtype, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    N, d, h, c = (sizes[k] for k in "Ndhc")
    shapes = [(d, h), (h,), (h, c), (c,), (N, d), (N, c)]
    scale = [1 / np.sqrt(d), 0.1, 1 / np.sqrt(h), 0.1, 1.0, 1.0]
    return [(s * rng.normal(size=shp)).astype(dtype) for s, shp in zip(scale, shapes)]


def torch_autograd(vals):
    import torch

    W1, b1, W2, b2, X, Y = (torch.from_numpy(v) for v in vals)
    params = [p.requires_grad_(True) for p in (W1, b1, W2, b2)]

    def step():
        Z2 = torch.tanh(X @ params[0] + params[1]) @ params[2] + params[3]
        L = ((Z2 - Y) ** 2).mean()
        return (L, *torch.autograd.grad(L, params))

    return step


def figure_mlp(sizes: dict, rounds: int) -> dict:
    L, params, args = mlp_problem()
    grads = sg.grad(L, params)
    gen = sg.lambdify([L, *grads], args, name="loss_and_grad",
                      names=["L", "dW1", "db1", "dW2", "db2"])
    forward = sg.lambdify([L], args, name="loss")
    out: dict = {"sizes": sizes, "source": gen.source}
    for dtype in (np.float64, np.float32):
        vals = mlp_values(sizes, dtype)
        # Both compute the same numbers (checked once, in float64 tolerance for the dtype).
        tol = 1e-10 if dtype == np.float64 else 1e-3
        for a, b in zip(gen.fn(*vals), hand_written(*vals)):
            assert np.allclose(a, b, rtol=tol, atol=tol), "generated and hand-written differ"
        fns = {"generated": lambda v=vals: gen.fn(*v), "hand": lambda v=vals: hand_written(*v)}
        t = race(fns, rounds)
        try:  # a race of their own: torch's thread pool must not spin while NumPy runs
            import torch

            tgen = sg.lambdify([L, *grads], args, backend="torch")
            tv = [torch.from_numpy(v) for v in vals]
            t.update(race({"torch.autograd": torch_autograd([v.copy() for v in vals]),
                           "generated torch": lambda tv=tv, g=tgen: g.fn(*tv)}, rounds))
        except ImportError:
            pass
        out[np.dtype(dtype).name] = {"seconds": t, "ratio_vs_hand": t["generated"] / t["hand"]}
    vals = mlp_values(sizes, np.float64)
    grad_flops = count_flops(gen.fn, vals)
    fwd_flops = count_flops(forward.fn, vals)
    out["flops"] = {"gradient_code": grad_flops, "forward": fwd_flops,
                    "hand_written": count_flops(hand_written, vals),
                    "ratio": grad_flops / fwd_flops}
    return out


# ---- 3: Hessians -------------------------------------------------------------------------------
def _jax():
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        return jax
    except ImportError:
        return None


def figure_hessians(sizes: dict, rounds: int) -> dict:
    if not hasattr(sg, "hessian"):
        return {"measured": False, "why": "sg.hessian does not exist yet"}
    import torch

    out: dict = {"measured": True}
    rng = np.random.default_rng(0)
    jax = _jax()

    # x^T A x: the Hessian is A + A^T.
    n_ = sg.dims("n")
    x, A = sg.vector("x", n_), sg.matrix("A", n_, n_)
    H = sg.hessian(x @ A @ x, x)
    n = sizes["quad_n"]
    vals = [rng.normal(size=n), rng.normal(size=(n, n))]
    quad = _hessian_race(H, [x, A], vals, lambda xx, AA: xx @ AA @ xx,
                         lambda xx, AA: xx @ AA @ xx, rounds, torch, jax)
    out["quadratic"] = {"n": n, "hessian": str(H), **quad}

    # Logistic regression: L(w) = sum(softplus(X w) - y ⊙ X w); H = Xᵀ diag(σ(1 - σ)) X.
    nn, dd = sg.dims("n d")
    X, y, w = sg.matrix("X", nn, dd), sg.vector("y", nn), sg.vector("w", dd)
    z = X @ w
    H = sg.hessian(sg.sum(sg.softplus(z) - y * z), w)
    n, d = sizes["logreg_n"], sizes["logreg_d"]
    vals = [rng.normal(size=d), rng.normal(size=(n, d)) / np.sqrt(d),
            (rng.uniform(size=n) < 0.5).astype(float)]

    def logreg_torch(ww, XX, yy):
        zz = XX @ ww
        return torch.sum(torch.nn.functional.softplus(zz, threshold=1e9) - yy * zz)

    def logreg_jax(ww, XX, yy):
        zz = XX @ ww
        return jax.numpy.sum(jax.nn.softplus(zz) - yy * zz)

    lr = _hessian_race(H, [w, X, y], vals, logreg_torch, logreg_jax, rounds, torch, jax)
    out["logistic"] = {"n": n, "d": d, "hessian": str(H), **lr}
    return out


def _hessian_race(H, args, vals, f_torch, f_jax, rounds: int, torch, jax) -> dict:
    """Time the Hessian w.r.t. the first argument: generated code against autodiff."""
    gen = sg.lambdify(H, args, name="hessian")
    tgen = sg.lambdify(H, args, backend="torch", name="hessian")
    tv = [torch.from_numpy(v) for v in vals]

    def first(f, rest):  # f as a function of the first argument alone
        return lambda v: f(v, *rest)

    ft = first(f_torch, tv[1:])
    fns = {
        "generated numpy": lambda: gen.fn(*vals),
        "generated torch": lambda: tgen.fn(*tv),
        "torch.func.hessian": lambda: torch.func.hessian(ft)(tv[0]),
        "torch.autograd.functional.hessian":
            lambda: torch.autograd.functional.hessian(ft, tv[0]),
    }
    ref = torch.func.hessian(ft)(tv[0]).numpy()
    assert np.allclose(gen.fn(*vals), ref, rtol=1e-8, atol=1e-8), "generated Hessian != torch's"
    if jax is not None:
        jv = [jax.numpy.asarray(v) for v in vals]
        hj = jax.jit(jax.hessian(first(f_jax, jv[1:])))
        fns["jax.hessian (jit)"] = lambda: hj(jv[0]).block_until_ready()
    t = race(fns, rounds)
    return {"seconds": t,
            "speedup_vs_torch_func": t["torch.func.hessian"] / t["generated numpy"],
            "speedup_vs_torch_func_torch_code": t["torch.func.hessian"] / t["generated torch"]}


# ---- report ------------------------------------------------------------------------------------
def _ms(s: float) -> str:
    return f"{1e3 * s:9.3f} ms"


def report(res: dict) -> list[tuple[str, bool | None]]:
    checks: list[tuple[str, bool | None]] = []
    m = res["mlp"]
    print(f"threads: {res['threads']}")
    print(f"== MLP, 2 tanh layers, sizes {m['sizes']} (loss and 4 gradients) ==")
    for dt in ("float64", "float32"):
        print(f"  {dt}:")
        for k, v in m[dt]["seconds"].items():
            print(f"    {k:34s} {_ms(v)}")
        r = m[dt]["ratio_vs_hand"]
        print(f"    generated / hand-written NumPy = {r:.3f}x (target <= {TARGET_MLP}x)")
        if "torch.autograd" in m[dt]["seconds"]:
            rt = m[dt]["seconds"]["torch.autograd"] / m[dt]["seconds"]["generated"]
            print(f"    torch.autograd / generated NumPy = {rt:.3f}x")
        checks.append((f"MLP {dt}: generated within {TARGET_MLP}x of hand-written",
                       r <= TARGET_MLP))
    f = m["flops"]
    print(f"  FLOPs: gradient code {f['gradient_code']:.4g}, forward {f['forward']:.4g}, "
          f"hand-written backprop {f['hand_written']:.4g}")
    print(f"    gradient code / forward = {f['ratio']:.3f}x (target <= {TARGET_FLOPS}x)")
    checks.append((f"MLP FLOPs: gradient code at most {TARGET_FLOPS}x the forward pass",
                   f["ratio"] <= TARGET_FLOPS))
    h = res["hessians"]
    if not h["measured"]:
        print(f"== Hessians: not measured ({h['why']}) ==")
        checks.append(("Hessians", None))
        return checks
    for key, label in (("quadratic", "x^T A x"), ("logistic", "logistic regression")):
        e = h[key]
        dims = f"n = {e['n']}" + (f", d = {e['d']}" if "d" in e else "")
        print(f"== Hessian of {label} ({dims}): {e['hessian']} ==")
        for k, v in e["seconds"].items():
            print(f"    {k:34s} {_ms(v)}")
        s = e["speedup_vs_torch_func"]
        print(f"    torch.func.hessian / generated NumPy = {s:.1f}x (target >= {TARGET_HESSIAN}x);"
              f" / generated torch = {e['speedup_vs_torch_func_torch_code']:.1f}x")
        checks.append((f"Hessian {label}: >= {TARGET_HESSIAN}x faster than torch.func.hessian",
                       s >= TARGET_HESSIAN))
    return checks


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one round (a smoke test)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved timing rounds")
    ap.add_argument("--json", default=None, help="write the results to this file")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS and torch threads (0: the libraries' defaults)")
    a = ap.parse_args(argv)
    if a.threads:
        try:
            import torch

            torch.set_num_threads(a.threads)
        except ImportError:
            pass
    rounds = a.rounds or (1 if a.quick else 15)
    res = {
        "mlp": figure_mlp(MLP_QUICK if a.quick else MLP_FULL, rounds),
        "hessians": figure_hessians(HESS_QUICK if a.quick else HESS_FULL, rounds),
        "threads": a.threads or f"library defaults ({os.cpu_count()} cores)",
    }
    res["checks"] = report(res)
    print("\nThe generated MLP code:\n" + res["mlp"]["source"])
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({k: v for k, v in res.items()}, fh, indent=1, default=str)
    return res


if __name__ == "__main__":
    out = main(sys.argv[1:])
    sys.exit(0 if all(ok is not False for _, ok in out["checks"]) else 1)
