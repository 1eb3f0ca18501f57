"""The `symgrad` command line: derive a gradient (or a Jacobian, a Hessian, code), or check a
hand-derived one, from LaTeX.

Results go to stdout; errors and warnings to stderr, as `symgrad: error: ...` and
`symgrad: warning: ...`. Exit codes: 0 done (check: the claim is right), 1 the claim is
wrong, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from . import __version__
from .check import check, find_variable
from .cli_output import Derived, Row, lhs, named_intermediates, render_derived, render_verdict
from .codegen import codegen
from .derivation import derive
from .errors import SymgradError
from .grad import grad
from .jacobian import hessian, jacobian
from .latex_in.declare import key_of, parse_shapes_text
from .latex_in.parser import parse_document
from .numeric import variables
from .ops import core
from .ops.kron import vec
from .web import serve

EPILOG = r"""
examples:
  symgrad derive 'f = W X + b' --shape W=n,m --shape X=m,k --shape b=n,1 --wrt b
  symgrad derive 'x^\top A x' --shapes 'x: n, A: n×n' --wrt x --format text
  symgrad derive 'x^\top S x' --shapes 'x: n, S: n×n symmetric' --wrt S
  symgrad derive 'A = \operatorname{softmax}_{\mathrm{row}}(Q K^\top), \; O = A V' \
      --shapes 'Q: n×d, K: n×d, V: n×d' --wrt V
  symgrad derive '\mathbf{1}^\top \log(1 + \exp(-y \odot (X w)))' --labels y=pm1 \
      --shapes 'X: N×d, w: d, y: N' --wrt w --hessian
  symgrad derive 'W x' --shapes 'W: m×n, x: n' --wrt x --jacobian
  symgrad derive 'f = W X + b' --shapes 'W: n×m, X: m×k, b: n×1' --wrt W --wrt b --code torch
  symgrad check 'f = W X + b' --wrt b --claim '\frac{\partial L}{\partial f} \mathbf{1}_k' \
      --shapes 'W: n×m, X: m×k, b: n×1'
  symgrad check '\log\det X' --wrt X --claim '-X^{-\top}' --shape X=n,n --format json
  echo 'x^\top A x' | symgrad derive - --shapes 'x: n, A: n×n' --wrt x

shapes: --shape NAME=SIZES (W=n,m; b=n,1; x=n; s= for a scalar; M=ones(N) for a constant),
repeated, or --shapes 'W: n×m, b: n×1, S: n×n symmetric, y: N pm1'; or declare them in the
LaTeX: 'W X + b, \quad W \in \mathbb{R}^{n \times m}, ...'. Math delimiters pasted from a
paper ($...$, \[...\], \begin{equation}...) are ignored. A non-scalar expression is
differentiated against its upstream gradient \frac{\partial L}{\partial f}; name it with
'f = ...'. Definitions before the result ('A = ..., \; O = A V') are named intermediates.
exit codes: 0 done / claim right, 1 claim wrong, 2 bad input.
"""

FORMATS = ("latex", "text", "markdown", "json")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symgrad", description="Symbolic matrix calculus from LaTeX: derive gradients, "
        "Jacobians, Hessians and code; check hand derivations.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{derive,check,serve}")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("expression", help="the objective in LaTeX ('-' reads standard input)")
        q.add_argument("--shape", action="append", default=[], metavar="NAME=SIZES",
                       help="declare a shape: W=n,m (repeatable)")
        q.add_argument("--shapes", default=None, metavar="TEXT",
                       help="declare shapes in one string: 'W: n×m, b: n×1, S: n×n symmetric'")
        q.add_argument("--symmetric", action="append", default=[], metavar="NAME[=SIZE]",
                       help="declare a symmetric matrix: S (shape given elsewhere) or S=n "
                       "(n×n); repeatable")
        q.add_argument("--labels", action="append", default=[], metavar="NAME=KIND",
                       help="declare labels: y=pm1 (entries ±1), Y=onehot or Y=simplex (rows sum "
                            "to one); repeatable")
        q.add_argument("--format", choices=FORMATS, default="latex",
                       help="output: latex (default), text (Unicode), markdown ($-delimited "
                       "math), json")

    d = sub.add_parser("derive", help="print the gradient (or Jacobian, Hessian, derivation, "
                       "code)", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(d)
    d.add_argument("--wrt", action="append", required=True, metavar="NAME",
                   help="the variable to differentiate by (repeatable)")
    d.add_argument("--steps", action="store_true", help="print the derivation step by step")
    what = d.add_mutually_exclusive_group()
    what.add_argument("--jacobian", action="store_true",
                      help="the Jacobian (numerator layout; matrices as vec)")
    what.add_argument("--hessian", action="store_true",
                      help="the Hessian of a scalar objective (a matrix variable as vec)")
    d.add_argument("--code", choices=("numpy", "torch", "jax"), default=None,
                   help="print Python code computing the objective and the results")

    c = sub.add_parser("check", help="check a claimed gradient (exit 0 right, 1 wrong)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    common(c)
    c.add_argument("--claim", required=True, metavar="LATEX",
                   help="the claimed gradient ('-' reads standard input); may start with '-'")
    c.add_argument("--wrt", default=None, metavar="NAME", help="the variable (optional when "
                   r"the claim reads \frac{\partial L}{\partial b} = ...)")
    c.add_argument("--json", action="store_true", help="the verdict as JSON (--format json)")
    c.add_argument("--seed", type=int, default=0, help="random seed of the numeric check")
    s = sub.add_parser("serve", help="the local web page (needs the web extra)")
    s.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    return p


def _protect_dashes(argv: Sequence[str]) -> list[str]:
    """LaTeX that starts with '-' (`--claim -X^{-\\top}`) is a value, not an option: argparse
    takes any word that starts with '-' for an option, so such words get a leading space,
    which argparse reads as a value and the LaTeX reader ignores."""
    return [f" {a}" if a.startswith("-") and a not in ("-", "-h") and not a.startswith("--")
            else a for a in argv]


def _read(value: str, stdin_used: list) -> str:
    if value == "-":
        if stdin_used:
            raise SymgradError("only one argument can be read from standard input ('-')")
        stdin_used.append(True)
        return sys.stdin.read().strip()
    return value.strip()


def _shapes(args) -> dict:
    out: dict = {}
    if args.shapes:
        out.update(parse_shapes_text(args.shapes))
    for item in args.shape:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise SymgradError(f"--shape {item!r}: write NAME=SIZES, e.g. W=n,m or b=n,1")
        out[name.strip()] = spec.strip()
    for item in args.symmetric:
        name, sep, size = (s.strip() for s in item.partition("="))
        spec = f"{size}×{size}" if size else _declared(out, name, "--symmetric", f"{name}=n")
        out[name] = spec if spec.rstrip().endswith("symmetric") else f"{spec} symmetric"
    for item in args.labels:
        name, sep, kind = (s.strip() for s in item.partition("="))
        if kind not in core.LABELS:
            raise SymgradError(f"--labels {item!r}: write NAME=pm1 (labels in {{-1, +1}}), "
                               f"NAME=onehot or NAME=simplex (rows that sum to one); "
                               f"known kinds: {', '.join(sorted(core.LABELS))}")
        spec = _declared(out, name, "--labels", None)
        out[name] = spec if spec.rstrip().endswith(kind) else f"{spec} {kind}"
    return out


def _declared(shapes: dict, name: str, flag: str, short: str | None) -> str:
    """The shape already declared for `name` (the structure flags add to a declaration)."""
    for k, spec in list(shapes.items()):
        if isinstance(spec, str) and key_of(k) == key_of(name):
            del shapes[k]
            return spec
    alt = f" or write {flag} {short}" if short else ""
    raise SymgradError(f"{flag} {name}: declare the shape of {name} with --shape or --shapes"
                       f"{alt}")


def _derive(args) -> str:
    res = parse_document(_read(args.expression, []), _shapes(args))
    y = res.expr
    xs = [find_variable(w.strip(), y, res.decls) for w in args.wrt]
    kind = "hessian" if args.hessian else "jacobian" if args.jacobian else "gradient"
    scalar = y.ndim == 0
    if kind == "jacobian":  # the function differentiated: its name, else L or f
        of = res.label or ("L" if scalar else "f")
    else:  # the loss: a scalar's own name, else L (a non-scalar is back-propagated from L)
        of = res.label if scalar and res.label else "L"
    if kind == "gradient":
        rows = [Row(x, g, *lhs(kind, of, x)) for x, g in zip(xs, grad(y, xs))]
    elif kind == "jacobian":
        yv = vec(y) if y.ndim == 2 else y
        rows = [Row(x, jacobian(yv, vec(x) if x.ndim == 2 else x),
                    *lhs(kind, of, x, y.ndim == 2, x.ndim == 2)) for x in xs]
    else:
        rows = [Row(x, hessian(y, vec(x) if x.ndim == 2 else x),
                    *lhs(kind, of, x, vec_x=x.ndim == 2)) for x in xs]
    out = Derived(y, kind, rows)
    out.definitions = named_intermediates([r.rhs for r in rows], y)
    if args.steps:
        out.steps = _steps(y, xs, kind)
    if args.code:
        out.code = _code(y, res.label or ("L" if scalar else "f"), out, args.code)
    return render_derived(out, args.format)


def _steps(y, xs, kind):
    if kind == "jacobian":
        raise SymgradError("--steps derives gradients and Hessians; drop --steps for the "
                           "Jacobian")
    if kind == "hessian":
        if len(xs) != 1:
            raise SymgradError("--steps --hessian derives the Hessian of one variable; "
                               "give one --wrt")
        x = xs[0]
        return derive(y, vec(x) if x.ndim == 2 else x, order=2)
    return derive(y, xs if len(xs) > 1 else xs[0])


def _code(y, of: str, d: Derived, backend: str) -> str:
    exprs = [core.unname(y), *(r.rhs for r in d.rows)]
    stem = {"gradient": "d", "jacobian": "J_", "hessian": "H_"}[d.kind]
    names = [_identifier(of), *(_identifier(stem + r.wrt.params.name) for r in d.rows)]
    return codegen(exprs, variables(exprs), backend=backend, name="derived",
                   names=names).lstrip("\n")


def _identifier(name: str) -> str:
    s = "".join(c if c.isalnum() or c == "_" else "_" for c in name.lstrip("\\"))
    return s if s.isidentifier() else f"v_{s}"


def _check(args) -> tuple[str, int]:
    stdin: list = []
    y = _read(args.expression, stdin)
    claim = _read(args.claim, stdin)
    shapes = _shapes(args)
    v = check(claim, y, args.wrt.strip() if args.wrt else None, shapes, seed=args.seed)
    fmt = "json" if args.json else args.format
    extra = variables(parse_document(y, shapes).expr) if fmt in ("text", "markdown") else []
    return render_verdict(v, fmt, extra), 0 if v.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 right/done, 1 wrong, 2 bad input)."""
    args = _parser().parse_args(_protect_dashes(sys.argv[1:] if argv is None else argv))
    if args.command == "serve":
        try:
            return serve(args.host, args.port) or 0
        except SymgradError as exc:
            print(f"symgrad: error: {exc}", file=sys.stderr)
            return 2
    code, error = 0, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if args.command == "derive":
                text = _derive(args)
            else:
                text, code = _check(args)
        except SymgradError as exc:
            error = exc
    for message in dict.fromkeys(str(w.message) for w in caught):  # without a source path
        print(f"symgrad: warning: {message}", file=sys.stderr)
    if error is not None:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
