"""Elementwise functions: each defined once by its scalar SymPy form, derivative and NumPy form.

Users add their own with `elementwise(name, expr, x)`: SymPy supplies the derivative, which is
turned back into symgrad nodes (so second derivatives work and results read naturally).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ..errors import SymgradError, UnsupportedError
from ..latex_in.scalar import parse_scalar_latex
from ..node import Node
from ..op import ATOM, REGISTRY, Op, Spelling, later, provide, register, rule
from . import core
from .arith import TEST_SHAPES, div, mul, neg, pow, sub, tensor_shapes

X = sympy.Symbol("x", real=True)  # the scalar argument in every definition

# SymPy's functions, or undefined ones standing for ours, used for scalar algebra in simplify().
SIGMOID, RELU, SOFTPLUS, STEP, SIGN = (sympy.Function(f) for f in
                                       ("sigmoid", "relu", "softplus", "step", "sign"))
BY_SYMPY: dict = {}  # SymPy function class -> op


def _print_fn(wrap: str = "func"):
    def pr(n, P):
        a = n.args[0]
        if wrap == "abs":
            return P.delim(P.arg(a, 0), "abs"), ATOM
        if wrap == "sqrt":
            return P.sqrt(P.arg(a, 0)), ATOM
        return P.spelled(n), ATOM

    return pr


def _code_call(name: str, fallback=None):
    """np.tanh(x): a function every backend spells the same; or the backend's native spelling,
    else `fallback` (a stable NumPy formula)."""

    def code(n, a, B):
        return B.native(name, a[0]) or (fallback(a[0], B) if fallback else
                                        f"{B.fn(name)}({a[0]})")

    return code


def elementwise_op(name: str, sym, deriv: Callable[[Node, Node], Node], numpy_fn,
                   latex: str, uni: str, domain: str = "any", wrap: str = "func",
                   definition=None, code=None, words: tuple[str, ...] = ()) -> Op:
    """Declare an elementwise function; `words` are further LaTeX spellings the parser reads
    (the op's name is always one)."""
    op = register(Op(
        name,
        shape=lambda args, params: args[0].shape,
        vjp=lambda n, g, needs: (mul(g, deriv(n.args[0], n)),),
        print=_print_fn(wrap),
        spelling=Spelling(latex, uni, (name, *words)),
        symmetric="closed",
        numpy=lambda n, vals, sizes: numpy_fn(vals[0]),
        cases=lambda: [(lambda a: Node(op, (a,)), [(s, domain)]) for s in TEST_SHAPES],
        tensor_cases=lambda: [(lambda a: Node(op, (a,)), [(s, domain)]) for s in tensor_shapes()],
        sympy=sym,
        code=code or _code_call(name),
    ))
    object.__setattr__(op, "definition", definition if definition is not None else sym(X))
    BY_SYMPY[sym] = op
    return op


def _apply(op):
    def f(x) -> Node:
        return Node(op, (core.as_node(x),))

    f.__name__ = op.name
    f.__doc__ = f"Elementwise {op.name}."
    return f


def _np_sigmoid(v):
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))


def _code_log(n, a, B):
    """log softmax(z) = z - logsumexp(z) and log σ(x) = -softplus(-x): finite for any logits."""
    x = n.args[0]
    if x.op.name == "softmax":
        z = x.args[0]
        return sub(z, later.logsumexp(z, x.params[0], keepdims=True))
    if x.op is SIGMOID_OP:
        return neg(Node(SOFTPLUS_OP, (neg(x.args[0]),)))
    return f"{B.fn('log')}({a[0]})"


# Derivatives are written with existing ops: tanh' = 1 - tanh², σ' = σ(1 - σ), ...
EXP = elementwise_op("exp", sympy.exp, lambda x, y: y, np.exp, r"\exp", "exp")
LOG = elementwise_op("log", sympy.log, lambda x, y: div(1, x), np.log, r"\log", "log", "positive",
                     code=_code_log, words=("ln",))
SQRT = elementwise_op("sqrt", sympy.sqrt, lambda x, y: div(sympy.Rational(1, 2), y), np.sqrt,
                      "", "√", "positive", wrap="sqrt")
TANH = elementwise_op("tanh", sympy.tanh, lambda x, y: sub(1, pow(y, 2)), np.tanh,
                      r"\tanh", "tanh")
SIGMOID_OP = elementwise_op("sigmoid", SIGMOID, lambda x, y: mul(y, sub(1, y)), _np_sigmoid,
                            r"\sigma", "σ", definition=1 / (1 + sympy.exp(-X)),
                            code=_code_call("sigmoid", lambda x, B: (  # exp(-log(1 + e^-x))
                                f"{B.fn('exp')}(-{B.fn('logaddexp')}(0.0, -{x.at(B.UNARY + 1)}))")))
STEP_OP = elementwise_op("step", STEP, lambda x, y: core.zeros(*x.shape) if x.ndim else
                         core.number(0), lambda v: (v > 0).astype(float),
                         r"\operatorname{step}", "step", "away0",
                         definition=sympy.Heaviside(X),
                         code=_code_call("step", lambda x, B: f"{B.fn('heaviside')}({x}, 0.0)"))
RELU_OP = elementwise_op("relu", RELU, lambda x, y: Node(STEP_OP, (x,)),
                         lambda v: np.maximum(v, 0.0), r"\operatorname{relu}", "relu", "away0",
                         words=("ReLU",),
                         definition=sympy.Max(0, X),
                         code=_code_call("relu", lambda x, B: f"{B.fn('maximum')}({x}, 0.0)"))
SOFTPLUS_OP = elementwise_op("softplus", SOFTPLUS, lambda x, y: Node(SIGMOID_OP, (x,)),
                             lambda v: np.logaddexp(0.0, v), r"\operatorname{softplus}",
                             "softplus", definition=sympy.log(1 + sympy.exp(X)),
                             code=_code_call("softplus",
                                             lambda x, B: f"{B.fn('logaddexp')}(0.0, {x})"))
SIN = elementwise_op("sin", sympy.sin, lambda x, y: Node(REGISTRY["cos"], (x,)), np.sin,
                     r"\sin", "sin")
COS = elementwise_op("cos", sympy.cos, lambda x, y: neg(Node(SIN, (x,))), np.cos, r"\cos", "cos")
SIGN_OP = elementwise_op("sign", SIGN, lambda x, y: core.zeros(*x.shape) if x.ndim else
                         core.number(0), np.sign, r"\operatorname{sign}", "sign", "away0",
                         words=("sgn",),
                         definition=sympy.sign(X))
ABS = elementwise_op("abs", sympy.Abs, lambda x, y: Node(SIGN_OP, (x,)), np.abs, "", "",
                     "away0", wrap="abs")

exp, log, sqrt, tanh, sigmoid = map(_apply, (EXP, LOG, SQRT, TANH, SIGMOID_OP))


@rule(LOG, "log-softplus")
def _log_softplus(n):  # log(1 + exp(t)) = softplus(t): its derivatives are then σ(t), σ(1 - σ)
    t = later.terms(n.args[0])
    if len(t) != 2 or t.get(()) != 1:
        return None
    (m, c), = [(m, c) for m, c in t.items() if m]
    if c != 1 or len(m) != 1 or m[0][1] != 1 or m[0][0].op is not EXP:
        return None
    e = m[0][0]
    return Node(SOFTPLUS_OP, (e.args[0],)) if e.shape == n.shape else None


@rule(SIGMOID_OP, "sigmoid-odd")
def _sigmoid_odd(n):  # σ(-t) = 1 - σ(t): no negated arguments, so σ(-z)(1 - σ(-z)) = σ(z)(1 - σ(z))
    a = n.args[0]
    if a.ndim == 0:
        e = later.to_sympy(a)
        if not e.could_extract_minus_sign():
            return None
        t = later.from_sympy(-e)
    else:
        ts = later.terms(a)
        if len(ts) != 1 or not next(iter(ts.values())).could_extract_minus_sign():
            return None
        t = later.rebuild({m: -c for m, c in ts.items()}, a.shape)
    return sub(1, Node(SIGMOID_OP, (t,)))
relu, softplus, sin, cos, abs_ = map(_apply, (RELU_OP, SOFTPLUS_OP, SIN, COS, ABS))
step, sign = _apply(STEP_OP), _apply(SIGN_OP)


# ---- user-defined elementwise functions -------------------------------------------------------
def _as_scalar_fn(expr) -> sympy.Expr:
    if isinstance(expr, str):
        expr = parse_scalar_latex(expr)
    try:
        e = sympy.sympify(expr)
    except (sympy.SympifyError, TypeError) as exc:
        raise SymgradError(f"cannot read {expr!r} as a SymPy expression") from exc
    free = sorted(e.free_symbols, key=str)
    if len(free) > 1:
        raise SymgradError(
            f"an elementwise function has one argument; {e} has {', '.join(map(str, free))}"
        )
    return e.subs(free[0], X) if free else e


def elementwise(name: str, expr, x) -> Node:
    """Apply the scalar function `expr` (SymPy expression or LaTeX, one free symbol) elementwise.

    The derivative comes from SymPy and is written back in symgrad's ops where it can be
    (so log(1 + exp(x)) differentiates to exp(x) / (1 + exp(x))).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SymgradError(f"an elementwise function needs an identifier name, got {name!r}")
    body = _as_scalar_fn(expr)
    op = REGISTRY.get(name)
    if op is None:
        op = _user_op(name, body)
    elif getattr(op, "definition", None) is None or sympy.simplify(op.definition - body) != 0:
        raise SymgradError(
            f"{name!r} is already defined as {getattr(op, 'definition', op.name)}; "
            "choose another name"
        )
    return Node(op, (core.as_node(x),))


def _user_op(name: str, body: sympy.Expr) -> Op:
    fn = sympy.Function(name)
    try:
        numpy_fn = sympy.lambdify(X, body, "numpy")
    except Exception as exc:  # noqa: BLE001 -- SymPy raises many types here
        raise UnsupportedError(f"cannot turn {body} into NumPy code: {exc}") from exc

    def deriv(x: Node, y: Node) -> Node:
        d = sympy.diff(body, X)
        try:
            return later.from_sympy(d, {X: x})
        except UnsupportedError:  # a function symgrad lacks: its derivative is a new op
            return elementwise(f"{name}_d", d, x)

    def np_fn(v):
        out = numpy_fn(v)
        return np.broadcast_to(np.asarray(out, float), np.shape(v)).copy()

    def code(n: Node, a, B):
        """The definition in symgrad's own ops, whose code forms every backend has."""
        try:
            return later.from_sympy(body, {X: n.args[0]})
        except UnsupportedError:
            raise UnsupportedError(
                f"cannot generate code for {name}(x) = {body}: symgrad has no operator for "
                "part of it"
            ) from None

    latex = rf"\operatorname{{{name}}}" if len(name) > 1 else name
    return elementwise_op(name, fn, deriv, np_fn, latex, name, definition=body, code=code)


BY_SYMPY[sympy.sign] = SIGN_OP
BY_SYMPY[sympy.Heaviside] = STEP_OP


provide(exp=exp, log=log, sqrt=sqrt, tanh=tanh, sigmoid=sigmoid)
