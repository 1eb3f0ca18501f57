"""Figures for the web page (issue 13, part 1), and the browser flow its test runs.

1. Page load to rendered result: `symgrad serve` on a free loopback port, Debian's chromium
   driven by Playwright loads the page, types the founding example (W X + b with W: n×m,
   X: m×k, b: n×1, wrt b), and waits for the KaTeX-rendered gradient.
2. The server's time for a 4-layer MLP derive request (steps and NumPy code included).
3. A short loopback load test: N requests, C at a time; errors counted.

Usage: python benchmarks/web_figures.py [--requests N] [--concurrency C] [--screenshot PNG]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FOUNDING = {"expression": "W X + b", "shapes": "W: n×m, X: m×k, b: n×1", "wrt": "b"}
GRADIENT = r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"
MLP_PY = {
    "expression": "H1 = tanh(X @ W1 + b1)\nH2 = tanh(H1 @ W2 + b2)\nH3 = tanh(H2 @ W3 + b3)\n"
                  "L = sum((H3 @ W4 + b4) ** 2)",
    "shapes": {"X": ["N", "d"], "W1": ["d", "h"], "b1": ["h"], "W2": ["h", "h"], "b2": ["h"],
               "W3": ["h", "h"], "b3": ["h"], "W4": ["h", "c"], "b4": ["c"]},
    "syntax": "python", "steps": True, "code": "numpy",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base: str, path: str, body: dict, timeout: float = 60.0) -> tuple[int, dict]:
    req = urllib.request.Request(base + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@contextlib.contextmanager
def server(timeout: float = 60.0):
    """`python -m symgrad serve` on a free loopback port; yields its base URL."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "symgrad", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/api/info", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    raise RuntimeError(f"symgrad serve did not start:\n{out}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def browser_missing() -> str | None:
    """Why the browser flow cannot run here, or None."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return "chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'playwright is not installed (pip install -e ".[webtest]")'
    return None


@contextlib.contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b.new_page(viewport={"width": 1100, "height": 900})
        finally:
            b.close()


def founding_example(page, base: str, screenshot: str | None = None) -> dict:
    """Load the page, derive the founding example, check a wrong and a right claim."""
    t0 = time.perf_counter()
    page.goto(base + "/")
    page.wait_for_selector("body[data-state=ready]")
    ready = time.perf_counter() - t0
    page.fill("#expression", FOUNDING["expression"])
    page.select_option("#syntax", "auto")
    page.fill("#shapes", FOUNDING["shapes"])
    page.fill("#wrt", FOUNDING["wrt"])
    page.select_option("#backend", "numpy")
    page.click("#derive")
    sel = ".result[data-wrt=b] annotation[encoding='application/x-tex']"
    page.wait_for_selector(sel, state="attached")
    rendered = time.perf_counter() - t0
    out = {"load_to_result_s": rendered, "load_s": ready,
           "annotation": page.text_content(sel),
           "katex_html": page.locator(".result[data-wrt=b] .katex-html").count(),
           "code": page.text_content("#code"),
           "broadcast": page.locator("#broadcasts annotation").first.text_content(),
           "derivation_blocks": page.locator("#derivation .katex-display").count()}
    page.fill("#claim", r"k \frac{\partial L}{\partial f}")
    page.click("#check")
    page.wait_for_selector("#verdict[data-ok=false]")
    out["wrong_verdict"] = page.text_content("#verdict")
    page.fill("#claim", GRADIENT)
    page.click("#check")
    page.wait_for_selector("#verdict[data-ok=true]")
    out["right_verdict"] = page.text_content("#verdict-summary")
    if screenshot:
        page.fill("#claim", r"k \frac{\partial L}{\partial f}")
        page.click("#check")
        page.wait_for_selector("#verdict[data-ok=false]")
        page.screenshot(path=screenshot, full_page=True)
    page.fill("#expression", "x'*A*x")  # ASCII, no shapes: inferred, and the page says so
    page.fill("#shapes", "")
    page.fill("#wrt", "")
    page.click("#derive")
    sel = ".result[data-wrt=x] annotation[encoding='application/x-tex']"
    page.wait_for_selector(sel, state="attached")
    out["inferred_annotation"] = page.text_content(sel)
    out["inferred_notes"] = page.text_content("#assumptions")
    page.fill("#expression", "W @ X +")
    page.click("#derive")
    page.wait_for_selector("#error:not([hidden])")
    out["error"] = page.text_content("#error")
    return out


async def _load(base: str, n: int, concurrency: int) -> dict:
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(concurrency)
    bodies = [dict(FOUNDING, steps=True), {"expression": "x'*A*x"},
              {"expression": "sum(exp(A @ x))", "code": "numpy"},
              dict(FOUNDING, claim=GRADIENT)]
    statuses: list[int] = []

    async def one(i: int) -> None:
        body = bodies[i % len(bodies)]
        path = "/api/check" if "claim" in body else "/api/derive"
        async with sem:
            status, _ = await loop.run_in_executor(None, post, base, path, body)
            statuses.append(status)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - t0
    return {"requests": n, "concurrency": concurrency, "ok": statuses.count(200),
            "errors": n - statuses.count(200), "wall_s": wall, "per_s": n / wall}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--screenshot", default=None, help="save the page as this PNG")
    args = ap.parse_args(argv)
    res: dict = {}
    with server() as base:
        post(base, "/api/derive", FOUNDING)  # warm the workers
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            status, body = post(base, "/api/derive", MLP_PY)
            times.append(time.perf_counter() - t0)
            assert status == 200, body
        res["mlp_derive_s"] = min(times)
        res["mlp_derive_median_s"] = sorted(times)[2]
        res["load"] = asyncio.run(_load(base, args.requests, args.concurrency))
        why = browser_missing()
        if why is None:
            with browser_page() as page:
                flow = founding_example(page, base, args.screenshot)
            res["page_load_to_result_s"] = flow["load_to_result_s"]
            res["page_load_s"] = flow["load_s"]
        else:
            res["page_load_to_result_s"] = None
            print(f"browser figure skipped: {why}")
    print(f"page load to rendered result (founding example): "
          f"{res['page_load_to_result_s'] and round(res['page_load_to_result_s'], 3)} s "
          f"(page ready after {res.get('page_load_s') and round(res['page_load_s'], 3)} s)")
    print(f"4-layer MLP derive request (steps + NumPy code): {res['mlp_derive_s']:.3f} s "
          f"(median {res['mlp_derive_median_s']:.3f} s)")
    ld = res["load"]
    print(f"load test: {ld['requests']} requests, {ld['concurrency']} at a time: {ld['ok']} ok, "
          f"{ld['errors']} errors, {ld['wall_s']:.2f} s ({ld['per_s']:.1f} requests/s)")
    return res


if __name__ == "__main__":
    main()
