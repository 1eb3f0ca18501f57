"""The `symgrad` command line: derive a gradient, or check a hand-derived one, from LaTeX.

Results go to stdout, errors to stderr. Exit codes: 0 done (check: the claim is right),
1 the claim is wrong, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .errors import SymgradError

EPILOG = r"""
examples:
  symgrad derive 'f = W X + b' --shape W=n,m --shape X=m,k --shape b=n,1 --wrt b
  symgrad derive 'x^\top A x' --shapes 'x: n, A: n×n' --wrt x --format text
  symgrad check 'f = W X + b' --wrt b --claim '\frac{\partial L}{\partial f} \mathbf{1}_k' \
      --shapes 'W: n×m, X: m×k, b: n×1'
  symgrad check '\log\det X' --wrt X --claim 'X^{-1}' --shape X=n,n --json
  echo 'x^\top A x' | symgrad derive - --shapes 'x: n, A: n×n' --wrt x

shapes: --shape NAME=SIZES (W=n,m; b=n,1; x=n; s= for a scalar; M=ones(N) for a constant),
repeated, or --shapes 'W: n×m, b: n×1'; or declare them in the LaTeX:
'W X + b, \quad W \in \mathbb{R}^{n \times m}, ...'. A non-scalar expression is
differentiated against its upstream gradient \frac{\partial L}{\partial f}; name it with
'f = ...'. exit codes: 0 done / claim right, 1 claim wrong, 2 bad input.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symgrad", description="Symbolic matrix calculus from LaTeX: derive gradients, "
        "check hand derivations.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{derive,check}")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("expression", help="the objective in LaTeX ('-' reads standard input)")
        q.add_argument("--shape", action="append", default=[], metavar="NAME=SIZES",
                       help="declare a shape: W=n,m (repeatable)")
        q.add_argument("--shapes", default=None, metavar="TEXT",
                       help="declare shapes in one string: 'W: n×m, b: n×1'")
        q.add_argument("--format", choices=("latex", "text", "markdown", "json"),
                       default="latex", help="output format (default latex)")

    d = sub.add_parser("derive", help="print the gradient (or its derivation)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(d)
    d.add_argument("--wrt", action="append", required=True, metavar="NAME",
                   help="the variable to differentiate by (repeatable)")
    d.add_argument("--steps", action="store_true", help="print the derivation step by step")

    c = sub.add_parser("check", help="check a claimed gradient (exit 0 right, 1 wrong)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(c)
    c.add_argument("--claim", required=True, metavar="LATEX",
                   help="the claimed gradient ('-' reads standard input)")
    c.add_argument("--wrt", default=None, metavar="NAME", help="the variable (optional when "
                   r"the claim reads \frac{\partial L}{\partial b} = ...)")
    c.add_argument("--json", action="store_true", help="the verdict as JSON (--format json)")
    c.add_argument("--seed", type=int, default=0, help="random seed of the numeric check")
    return p


def _read(value: str, stdin_used: list) -> str:
    if value == "-":
        if stdin_used:
            raise SymgradError("only one argument can be read from standard input ('-')")
        stdin_used.append(True)
        return sys.stdin.read().strip()
    return value


def _shapes(args) -> dict:
    out: dict = {}
    if args.shapes:
        from .latex_in.declare import parse_shapes_text

        out.update(parse_shapes_text(args.shapes))
    for item in args.shape:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise SymgradError(f"--shape {item!r}: write NAME=SIZES, e.g. W=n,m or b=n,1")
        out[name.strip()] = spec.strip()
    return out


def _derive(args, out) -> int:
    import symgrad as sg

    from .latex_in.parser import parse_document
    from .names import latex_name as _latex_name

    stdin: list = []
    res = parse_document(_read(args.expression, stdin), _shapes(args))
    y = res.expr
    if args.steps:
        derive = getattr(sg, "derive", None)
        if derive is None:
            raise SymgradError("derivations are not available yet (--steps needs sg.derive); "
                               "run without --steps for the result")
        return _print_steps(derive, y, args, res, out)
    from .check import find_variable

    xs = [find_variable(w, y, res.decls) for w in args.wrt]
    grads = sg.grad(y, xs)
    loss = res.label if (y.ndim == 0 and res.label) else "L"
    rows = []
    for x, g in zip(xs, grads):
        lhs_tex = rf"\frac{{\partial {_latex_name(loss)}}}{{\partial {sg.latex(x)}}}"
        rows.append({"wrt": x.params[0], "shape": [str(s) for s in x.shape],
                     "latex": sg.latex(g), "text": str(g), "lhs_latex": lhs_tex,
                     "lhs_text": f"∂{loss}/∂{x}"})
    fmt = args.format
    if fmt == "json":
        json.dump({"objective": sg.latex(y), "shape": [str(s) for s in y.shape],
                   "layout": "denominator (each gradient has the shape of its variable)",
                   "gradients": rows}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "text":
        for r in rows:
            out.write(f"{r['lhs_text']} = {r['text']}\n")
    elif fmt == "markdown":
        for r in rows:
            out.write(f"$$\n{r['lhs_latex']} = {r['latex']}\n$$\n\n")
    else:
        for r in rows:
            out.write(f"{r['lhs_latex']} = {r['latex']}\n")
    return 0


def _print_steps(derive, y, args, res, out) -> int:
    from .check import find_variable

    xs = [find_variable(w, y, res.decls) for w in args.wrt]
    d = derive(y, xs if len(xs) > 1 else xs[0])
    if args.format == "json":
        json.dump({"latex": d.latex(), "text": str(d)}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif args.format == "text":
        out.write(str(d) + "\n")
    elif args.format == "markdown":
        md = getattr(d, "markdown", None)
        out.write((md() if md else f"$$\n{d.latex()}\n$$") + "\n")
    else:
        out.write(d.latex() + "\n")
    return 0


def _check(args, out) -> int:
    from .check import check

    stdin: list = []
    y = _read(args.expression, stdin)
    claim = _read(args.claim, stdin)
    v = check(claim, y, args.wrt, _shapes(args), seed=args.seed)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        json.dump(v.to_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "markdown":
        out.write(f"**{'right' if v.ok else 'wrong'}**: {v.summary.split(': ', 1)[1]}\n")
        for d in v.diagnoses[1:]:
            out.write(f"- {d}\n")
        if v.counterexample is not None:
            out.write(f"\n```\n{v.counterexample}\n```\n")
    else:
        out.write(str(v) + "\n")
    return 0 if v.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 right/done, 1 wrong, 2 bad input)."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "derive":
            return _derive(args, out)
        return _check(args, out)
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
