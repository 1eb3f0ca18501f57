"""Leaves and identity-like nodes: variables, constants (numbers, ones, zeros, eye), names."""

from __future__ import annotations

import numbers
from enum import StrEnum
from typing import NamedTuple

import numpy as np
import sympy

from ..errors import SymgradError, UnsupportedError
from ..names import check_name
from ..node import Node
from ..op import ATOM, POSTFIX, Op, register
from ..shapes import Shape, as_shape, as_size


def _leaf_shape(args, params):
    return params[1]


def _num_shape(args, params):
    return ()


# ---- variables -----------------------------------------------------------------------------
class Kind(StrEnum):
    """What a variable is. Declared structure is used only where declared: SYMMETRIC (S = Sᵀ:
    gradients are projected to sym(G), see grad.py), PM1 (±1 labels: y ⊙ y = 1 in simplify),
    SIMPLEX (each row, or a vector's entries, sums to one: probabilities, soft labels) and
    ONEHOT (a simplex with entries in {0, 1}: y ⊙ y = y as well)."""

    VAR = "var"
    UPSTREAM = "upstream"  # the seed dL/df of a non-scalar f, named by upstream_name(f)
    SYMMETRIC = "symmetric"
    PM1 = "pm1"
    SIMPLEX = "simplex"
    ONEHOT = "onehot"
    SYMBOL = "symbol"  # an internal placeholder (a direction in forward mode), never user input
    DIFFERENTIAL = "differential"  # dx in a derivation: prints d before its variable's name


class VarParams(NamedTuple):
    """A variable's parameters (a tuple, so interning and pickling treat it as one)."""

    name: str
    shape: Shape
    kind: Kind


# The one place of the upstream-gradient naming convention: dL/df is the variable "dL/df".
UPSTREAM_PREFIX = "dL/d"


def upstream_name(of: str) -> str:
    return UPSTREAM_PREFIX + of


def upstream_target(name: str) -> str:
    """f for the upstream gradient named dL/df."""
    return name[len(UPSTREAM_PREFIX):]


def _print_var(n, P):
    p: VarParams = n.params
    if p.kind == Kind.UPSTREAM:
        return P.upstream(upstream_target(p.name))
    if p.kind == Kind.DIFFERENTIAL:  # dx: d before the variable's name (\mathit{dx} is a name)
        return "d" + P.name(p.name[1:]), ATOM
    return P.name(p.name), ATOM


def _eval_var(n, vals, env):
    raise SymgradError("variables are bound by evaluate()")  # pragma: no cover


VAR = register(Op("var", shape=_leaf_shape, print=_print_var, numpy=_eval_var,
                  symmetric=lambda n: n.params.kind == Kind.SYMMETRIC))


def variable(name: str, *shape, kind: Kind | str = Kind.VAR) -> Node:
    kind = Kind(kind)
    if kind == Kind.VAR:  # other kinds may be internal (dL/df, a derivation's d(S)), and
        # vector() and matrix() check the names of declared structure themselves
        name = check_name(name)
    elif not isinstance(name, str) or not name:
        raise SymgradError(f"a variable name must be a non-empty string, got {name!r}")
    return Node(VAR, (), VarParams(name, as_shape(shape), kind))


def tensor(name: str, *shape) -> Node:
    """A variable of any order: tensor("X", B, T, d) has shape (B, T, d); sizes are dims or
    ints. scalar(), vector() and matrix() are its shorthands for 0, 1 and 2 axes."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):  # tensor("X", (B, T, d))
        shape = tuple(shape[0])
    return variable(check_name(name), *shape)


def scalar(name: str, value=None) -> Node:
    """A scalar variable (shape ()); with a value, the named constant constant(name, value)."""
    return variable(name) if value is None else constant(name, value)


# ---- named constants: printed by name (\epsilon), valued without being bound in env ---------
def _eval_const(n, vals, sizes):
    return np.float64(n.params[1])


CONSTANT = register(Op(
    "constant", shape=_num_shape, print=lambda n, P: (P.name(n.params[0]), ATOM),
    numpy=_eval_const, code=lambda n, a, B: B.number(n.params[1]),
))


def constant(name: str, value) -> Node:
    r"""A named constant, as `constant("epsilon", 1e-5)`: prints as \epsilon, evaluates to its
    value (evaluate, codegen, lambdify) with nothing to bind, and is not differentiated by."""
    v = number(value)
    if v.op is not NUMBER or v.params[0].free_symbols:
        raise SymgradError(f"the value of constant {name!r} must be a real number, got {value!r}")
    return Node(CONSTANT, (), (check_name(name), v.params[0]))


LABELS = {"pm1": Kind.PM1, "simplex": Kind.SIMPLEX, "onehot": Kind.ONEHOT}


def _kind(name: str, labels, symmetric: bool = False) -> Kind:
    if labels is not None and labels not in LABELS:
        raise SymgradError(f"unknown labels {labels!r} for {name!r}; known: {sorted(LABELS)}")
    if labels is not None and symmetric:
        raise UnsupportedError(f"{name!r} cannot be both symmetric and a label matrix")
    return Kind.SYMMETRIC if symmetric else LABELS.get(labels, Kind.VAR)


def vector(name: str, n, labels: str | None = None) -> Node:
    """A 1-D vector variable (shape (n,)); prints as a column vector.

    labels="pm1" declares entries in {-1, +1} (classification labels): simplify uses y ⊙ y = 1;
    labels="simplex" entries that sum to one (1ᵀy = 1), labels="onehot" a one-hot vector
    (1ᵀy = 1 and y ⊙ y = y).
    """
    return variable(check_name(name), n, kind=_kind(name, labels))


def matrix(name: str, n, m, symmetric: bool = False, labels: str | None = None) -> Node:
    """A matrix variable (shape (n, m)); (n, 1) is a column, (1, m) a row.

    symmetric=True declares S = Sᵀ: gradients w.r.t. S are symmetric, sym(G) = (G + Gᵀ)/2.
    labels="simplex" declares rows that sum to one (Y 1 = 1: class probabilities), "onehot"
    one-hot rows (Y 1 = 1 and Y ⊙ Y = Y), "pm1" entries in {-1, +1} (Y ⊙ Y = 1).
    """
    if symmetric and as_shape((n,))[0] != as_shape((m,))[0]:
        raise SymgradError(f"a symmetric matrix {name!r} must be square, got ({n}, {m})")
    return variable(check_name(name), n, m, kind=_kind(name, labels, bool(symmetric)))


def is_symmetric(n: Node) -> bool:
    return n.op is VAR and n.params.kind == Kind.SYMMETRIC


def is_pm1(n: Node) -> bool:
    return n.op is VAR and n.params.kind == Kind.PM1


def rows_sum_to_one(n: Node) -> bool:
    """A variable declared with labels="simplex" or "onehot": its last axis sums to one."""
    return n.op is VAR and n.params.kind in (Kind.SIMPLEX, Kind.ONEHOT)


def is_onehot(n: Node) -> bool:
    return n.op is VAR and n.params.kind == Kind.ONEHOT


def is_upstream(n: Node) -> bool:
    return n.op is VAR and n.params.kind == Kind.UPSTREAM


def is_user_variable(n: Node) -> bool:
    """A variable the user declared (not an upstream gradient or an internal placeholder)."""
    return n.op is VAR and n.params.kind not in (Kind.UPSTREAM, Kind.SYMBOL)


def upstream_of(y: Node, name: str | None = None) -> Node:
    """The symbolic upstream gradient dL/dy: a fresh variable of y's shape."""
    if name is None:
        name = y.params[0] if y.op is NAME else "f"
    return variable(upstream_name(name), *y.shape, kind=Kind.UPSTREAM)


def is_var(n: Node) -> bool:
    return n.op is VAR


# ---- numbers (scalars; may depend on symbolic sizes, as 1/(n k) in a mean) -------------------
def _print_number(n, P):
    return P.number(n.params[0])


def _eval_number(n, vals, sizes):
    v = n.params[0]
    if v.free_symbols:
        v = v.subs(sizes)
    return np.float64(v)


NUMBER = register(Op("number", shape=_num_shape, print=_print_number, numpy=_eval_number,
                     code=lambda n, a, B: B.number(n.params[0])))


def number(v) -> Node:
    if isinstance(v, Node):
        return v
    if isinstance(v, (bool, np.bool_)):
        raise SymgradError(f"{v!r} is a bool, not a number")
    if isinstance(v, numbers.Number) and not isinstance(v, numbers.Real):
        raise UnsupportedError(f"complex number {v!r}: symgrad works over the reals")
    if isinstance(v, float):
        if not np.isfinite(v):
            raise SymgradError(f"number {v!r} is not finite")
        # The exact rational of the shortest decimal that reads back as v (0.1 is 1/10, 0.5 is
        # 1/2): the same float64 when evaluated, and exact in SymPy, so 0.5 * 2 is 1, not 1.0.
        v = sympy.Rational(repr(float(v)))
    try:
        e = sympy.sympify(v)
    except (sympy.SympifyError, TypeError) as exc:
        raise SymgradError(f"cannot use {v!r} as a symgrad scalar") from exc
    if not isinstance(e, sympy.Expr) or not real(e) or e.has(sympy.zoo, sympy.nan):
        raise SymgradError(f"cannot use {v!r} as a real scalar")
    if not e.is_Atom and e.has(sympy.Float):  # 0.5 * N arrives with SymPy's Float: exact too
        e = e.xreplace({f: sympy.Rational(repr(float(f))) for f in e.atoms(sympy.Float)})
    return Node(NUMBER, (), (e,))


_REAL_LEAVES = (sympy.Rational, sympy.Float, sympy.NumberSymbol)


def real(e: sympy.Expr) -> bool:
    """Not known to be non-real (SymPy's e.is_real is not False). Real numbers and sizes joined
    by + × and integer powers are answered without SymPy's assumption system, whose query on
    2/(N c) costs milliseconds on a cold cache (a division by zero is zoo, checked apart)."""
    if _real_by_construction(e):
        return True
    return e.is_real is not False


def _real_by_construction(e: sympy.Expr) -> bool:
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, _REAL_LEAVES) or (x.is_Symbol and x.is_real):
            continue
        if isinstance(x, (sympy.Add, sympy.Mul)):
            stack.extend(x.args)
        elif isinstance(x, sympy.Pow) and x.exp.is_Integer:
            stack.append(x.base)
        else:
            return False
    return True


def as_node(x) -> Node:
    """Coerce a Python/NumPy/SymPy scalar to a number node; nodes pass through."""
    if isinstance(x, Node):
        return x
    if isinstance(x, (numbers.Number, sympy.Expr, np.generic)):
        return number(x.item() if isinstance(x, np.generic) else x)
    if isinstance(x, np.ndarray):
        raise UnsupportedError(
            "NumPy arrays are not symgrad expressions; declare a variable and bind the array "
            "in evaluate()"
        )
    raise SymgradError(f"cannot use {type(x).__name__} {x!r} in a symgrad expression")


def const_value(n: Node):
    """The SymPy value of a number node, or None."""
    return n.params[0] if n.op is NUMBER else None


def is_number(n: Node, v=None) -> bool:
    return n.op is NUMBER and (v is None or n.params[0] == v)


# ---- ones, zeros, identity ----------------------------------------------------------------
def _print_ones(n, P):
    return P.ones(n.shape)


def _print_zeros(n, P):
    return P.zeros(n.shape)


def _print_eye(n, P):
    return P.eye(n.shape[0])


def _fill(value):
    def ev(n, vals, sizes):
        return np.full(tuple(int(sympy.sympify(s).subs(sizes)) for s in n.shape), value, float)

    return ev


def _eval_eye(n, vals, sizes):
    return np.eye(int(sympy.sympify(n.shape[0]).subs(sizes)))


def _code_create(kind):  # built only where a value is needed: products and sums look through
    return lambda n, a, B: B.code(B.create(kind, n.shape), hint=kind)


def _print_ones_t(n, P):  # (1_n)ᵀ is the row 1_nᵀ
    if n.ndim == 2 and n.shape[1] == 1:
        return P.ones_vec(n.shape[0]) + P.style.transpose, POSTFIX
    return None

ONES = register(Op("ones", shape=_leaf_shape, print_transposed=_print_ones_t,
                   entry=lambda n, E, idx: ("1", ATOM),
                   print=_print_ones, numpy=_fill(1.0),
                   code=_code_create("ones")))
ZEROS = register(Op("zeros", shape=_leaf_shape, print=_print_zeros, numpy=_fill(0.0),
                    entry=lambda n, E, idx: ("0", ATOM),
                    code=_code_create("zeros")))
EYE = register(Op("eye", shape=_leaf_shape, symmetric=True, print=_print_eye,
                  entry=lambda n, E, idx: (E.P.pick(r"\delta", "δ") + E.sub(idx), ATOM),
                  numpy=_eval_eye,
                  code=_code_create("eye")))


def _const_shape(shape) -> Shape:
    return as_shape(shape)


def ones(*shape) -> Node:
    shp = _const_shape(shape)
    return number(1) if shp == () else Node(ONES, (), ("ones", shp))


def zeros(*shape) -> Node:
    shp = _const_shape(shape)
    return number(0) if shp == () else Node(ZEROS, (), ("zeros", shp))


def eye(n) -> Node:
    s = as_size(n)
    return Node(EYE, (), ("eye", (s, s)))


def is_zero(n: Node) -> bool:
    return n.op is ZEROS or is_number(n, 0)


def is_one(n: Node) -> bool:
    return n.op is ONES or is_number(n, 1)


# ---- names: an intermediate printed by its name (identity in value and derivative) ----------
def _name_shape(args, params):
    return args[0].shape


def _print_name(n, P):
    return P.name(n.params[0]), ATOM


def _mf_name(R, n: Node) -> Node:  # a name is the identity
    return R.of(n.args[0])

NAME = register(
    Op(
        "name",
        shape=_name_shape, matrix_form=_mf_name,
        # A batched value is another value: it keeps no name (the name means the unbatched).
        batch=lambda n, args, deps, lead: args[0],
        vjp=lambda n, g, needs: (g,),
        print=_print_name,
        numpy=lambda n, vals, sizes: vals[0],
        explicit=lambda n: n,
        # A named intermediate always gets a line of its own, under its name.
        code=lambda n, a, B: B.code(str(a[0]), hint=n.params[0], line=True),
    )
)


def name(label: str, expr) -> Node:
    """Give an intermediate a name: printed results and upstream gradients refer to it by it."""
    return Node(NAME, (as_node(expr),), (check_name(label),))


def unname(n: Node) -> Node:
    while n.op is NAME:
        n = n.args[0]
    return n
