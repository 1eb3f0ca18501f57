"""Jacobians and Hessians in matrix notation, read off vector-Jacobian products.

The VJP g = vjp(y, x, u) is linear in the upstream u. Structural rules turn it into the matrix
M with vec(g) = M vec(u) (u -> I, A e -> A M(e), e ⊙ v -> diag(v) M(e), sums, broadcasts,
reductions, and for matrices the Magnus–Neudecker forms vec(A E B) = (Bᵀ ⊗ A) vec(E),
vec(Eᵀ) = K vec(E)). Then J = Mᵀ (numerator layout, shape y.shape + x.shape, as jax.jacobian)
and H = the Jacobian of the gradient. Each rule is exact: an op the rules do not know, or a
VJP that is not linear in u, raises UnsupportedError rather than guessing. vec stacks columns.

Shapes: a Jacobian has y.ndim + x.ndim axes and symgrad has at most two, so matrix-valued
inputs or outputs are taken in vec form: jacobian(vec(Y), vec(X)), hessian(L, vec(X)).
"""

from __future__ import annotations

from typing import NamedTuple

import sympy

from .errors import DifferentiationError, ShapeError, UnsupportedError
from .grad import backprop, vjp
from .node import Node, describe, topo
from .numeric import variables
from .ops import arith, core, linalg, reduce, shape
from .ops import kron as kr
from .shapes import numel
from .simplify import simplify as _simplify

# ---- small builders ----------------------------------------------------------------------------


def _n(s) -> object:
    """The number of entries of a shape, as a size."""
    return numel(s)


def _col(v: Node) -> Node:
    """vec(v) as a column: (k, 1)."""
    if v.ndim == 2:
        v = kr.vec(v)
    return shape.reshape(v, (_n(v.shape), 1))


def _row(v: Node) -> Node:
    """vec(v)ᵀ as a row: (1, k); (Bᵀ w)ᵀ is written wᵀ B, so products keep their factors."""
    if v.op is linalg.MATMUL and v.args[0].op is shape.T and v.args[1].ndim == 1:
        return linalg.matmul(_row(v.args[1]), v.args[0].args[0])
    if v.ndim == 2:
        v = kr.vec(v)
    return shape.reshape(v, (1, _n(v.shape)))


def _is_col(a: Node) -> bool:
    return a.op is shape.RESHAPE and a.args[0].ndim == 1 and a.shape[1] == 1


def _mm(a: Node, b: Node) -> Node:
    """a @ b, with a column times a row written as the outer product a bᵀ (and a (wᵀ B) as
    (a wᵀ) B, so that a common factor B can come out of sums)."""
    if _is_col(a) and b.op is shape.RESHAPE and b.args[0].ndim == 1 and b.shape[0] == 1:
        return linalg.outer(a.args[0], b.args[0])
    if _is_col(a) and b.op is linalg.MATMUL and b.args[0].op is shape.RESHAPE \
            and b.args[0].shape[0] == 1:
        return linalg.matmul(_mm(a, b.args[0]), b.args[1])
    return linalg.matmul(a, b)


def _axis_map(factors: list[Node]) -> Node:
    """The matrix of a map acting axis by axis (factor i on axis i) on column-major vec."""
    if len(factors) == 1:
        return factors[0]
    return kr.kron(factors[1], factors[0])


def _bcast_map(src: tuple, dst: tuple) -> Node | None:
    """B with vec(broadcast_to(a, dst)) = B vec(a); None for the identity."""
    if src == dst:
        return None
    pad = (1,) * (len(dst) - len(src)) + tuple(src)
    if all(s == 1 for s in pad):  # a single value spread everywhere
        return core.ones(_n(dst), 1)
    return _axis_map([core.eye(d) if s == d else core.ones(d, 1) for s, d in zip(pad, dst)])


def _sum_map(src: tuple, axes: tuple) -> Node:
    """S with vec(sum(a, axes)) = S vec(a) (keepdims or not: the same entries in order)."""
    if len(axes) == len(src):
        return core.ones(1, _n(src))
    return _axis_map([core.ones(1, d) if i in axes else core.eye(d) for i, d in enumerate(src)])


def _apply(mat: Node | None, m: Node) -> Node:
    return m if mat is None else _mm(mat, m)


def _diag_embed(k) -> Node:
    """E with vec(diag(v)) = E v for v of length k: (1_k ⊗ I_k) ⊙ (I_k ⊗ 1_k)."""
    return arith.mul(kr.kron(core.ones(k, 1), core.eye(k)), kr.kron(core.eye(k), core.ones(k, 1)))


class _NotLinear(UnsupportedError):
    pass


# ---- reading the matrix off a linear expression ----------------------------------------------
class _Reader:
    """M(e) for every node e depending on u: vec(e) = M(e) vec(u), M(e) of shape (|e|, |u|)."""

    def __init__(self, u: Node) -> None:
        self.u = u
        self.nu = _n(u.shape)
        self.dep: set[Node] = set()
        self.M: dict[Node, Node] = {}

    def read(self, e: Node) -> Node:
        order = topo(e)
        for n in order:
            if n is self.u or any(a in self.dep for a in n.args):
                self.dep.add(n)
        if e not in self.dep:
            return core.zeros(_n(e.shape), self.nu)
        for n in order:
            if n in self.dep and n not in self.M:
                self.M[n] = self.node(n)
        return self.M[e]

    def node(self, n: Node) -> Node:
        if n is self.u:
            return core.eye(self.nu)
        if all(s == 1 for s in n.shape):  # one value, a linear functional of u: its gradient
            (gu,) = backprop(shape.reshape(n, ()), core.number(1), [self.u])  # is the row
            return _row(_simplify(gu))
        rule = _RULES.get(n.op)
        if rule is None:
            raise UnsupportedError(
                f"cannot read a matrix off {describe(n)}: symgrad has no matrix form for "
                f"{n.op.name} in a Jacobian"
            )
        return rule(self, n)

    def of(self, a: Node) -> Node:
        return self.M[a]

    def deps(self, n: Node) -> list[bool]:
        return [a in self.dep for a in n.args]

    def not_linear(self, n: Node) -> _NotLinear:
        return _NotLinear(f"{describe(n)} is not linear in the upstream gradient: no matrix form")


def _r_name(R: _Reader, n: Node) -> Node:
    return R.of(n.args[0])


def _r_neg(R: _Reader, n: Node) -> Node:
    return arith.neg(R.of(n.args[0]))


def _r_addsub(R: _Reader, n: Node) -> Node:
    parts = []
    for a, d in zip(n.args, R.deps(n)):
        if d:
            parts.append(_apply(_bcast_map(a.shape, n.shape), R.of(a)))
        elif core.is_zero(a):
            parts.append(None)
        else:
            raise R.not_linear(n)  # affine, not linear
    a, b = parts
    if b is None:
        return a
    if a is None:
        return arith.neg(b) if n.op is arith.SUB_OP else b
    return arith.add(a, b) if n.op is arith.ADD_OP else arith.sub(a, b)


def _factors(R: _Reader, n: Node) -> tuple[list[Node], Node]:
    """A Hadamard chain as (constant factors, the one factor depending on u)."""
    consts, dep, stack = [], [], [n]
    while stack:
        e = stack.pop()
        if e.op is arith.MUL_OP and e in R.dep:
            stack += list(e.args)
        elif e.op is arith.DIV_OP and e in R.dep:
            if e.args[1] in R.dep:
                raise R.not_linear(n)
            stack.append(e.args[0])
            consts.append(arith.div(1, e.args[1]))
        elif e in R.dep:
            dep.append(e)
        else:
            consts.append(e)
    if len(dep) != 1:
        raise R.not_linear(n)
    return consts, dep[0]


def _scalar_like(c: Node) -> Node | None:
    """c as a scalar when it has one entry (a keepdims sum, a (1,) vector), else None."""
    if c.ndim == 0:
        return c
    if all(s == 1 for s in c.shape):
        return shape.reshape(c, ())
    if c.op is shape.BROADCAST and all(s == 1 for s in c.args[0].shape):
        return shape.reshape(c.args[0], ())
    return None


def _r_hadamard(R: _Reader, n: Node) -> Node:
    consts, d = _factors(R, n)
    scalars, arrays = [], []
    for c in consts:
        s = _scalar_like(c)
        (scalars if s is not None else arrays).append(s if s is not None else c)
    md = R.of(d)
    if arrays:
        c = arrays[0]
        for a in arrays[1:]:
            c = arith.mul(c, a)
        c = shape.broadcast_to(c, n.shape)
        if all(s == 1 for s in d.shape) or d.ndim == 0:  # a spread value times c: c ⊗ row
            m = _mm(_col(c), md)
        else:
            m = _mm(linalg.diag(c if c.ndim == 1 else kr.vec(c)),
                    _apply(_bcast_map(d.shape, n.shape), md))
    else:
        m = _apply(_bcast_map(d.shape, n.shape), md)
    for s in scalars:
        m = arith.mul(s, m)
    return m


def _r_pow(R: _Reader, n: Node) -> Node:
    a, p = n.args
    if p in R.dep or not core.is_number(p, 1):
        raise R.not_linear(n)
    return _apply(_bcast_map(a.shape, n.shape), R.of(a))


def _r_matmul(R: _Reader, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if da:  # vec(E B) = (Bᵀ ⊗ I) vec(E)
        if a.ndim == 1:
            return _mm(shape.transpose(b), R.of(a))
        left = kr.kron(shape.transpose(b) if b.ndim == 2 else _row(b), core.eye(a.shape[0]))
        return _mm(left, R.of(a))
    if b.ndim == 1:  # vec(A E) = (I ⊗ A) vec(E)
        return _mm(a if a.ndim == 2 else _row(a), R.of(b))
    return _mm(kr.kron(core.eye(b.shape[1]), a if a.ndim == 2 else _row(a)), R.of(b))


def _r_outer(R: _Reader, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if da:  # vec(e bᵀ) = (b ⊗ I) e
        return _mm(kr.kron(_col(b), core.eye(a.shape[0])), R.of(a))
    return _mm(kr.kron(core.eye(b.shape[0]), _col(a)), R.of(b))  # vec(a eᵀ) = (I ⊗ a) e


def _r_transpose(R: _Reader, n: Node) -> Node:
    p, q = n.args[0].shape
    return _mm(kr.commutation(p, q), R.of(n.args[0]))


def _r_same(R: _Reader, n: Node) -> Node:  # reshape (unit axes), vec, unvec: vec is unchanged
    return R.of(n.args[0])


def _r_broadcast(R: _Reader, n: Node) -> Node:
    return _apply(_bcast_map(n.args[0].shape, n.shape), R.of(n.args[0]))


def _r_sum_to(R: _Reader, n: Node) -> Node:
    b = _bcast_map(n.shape, n.args[0].shape)
    return _apply(None if b is None else shape.transpose(b), R.of(n.args[0]))


def _r_sum(R: _Reader, n: Node) -> Node:
    a = n.args[0]
    return _mm(_sum_map(a.shape, n.params[0]), R.of(a))


def _r_diag(R: _Reader, n: Node) -> Node:
    a = n.args[0]
    e = _diag_embed(a.shape[0])
    return _mm(e if a.ndim == 1 else shape.transpose(e), R.of(a))


def _r_kron(R: _Reader, n: Node) -> Node:
    a, b = n.args
    da, db = R.deps(n)
    if da and db:
        raise R.not_linear(n)
    if a.ndim == 1:  # kron(a, b) = vec(b aᵀ)
        if da:
            return _mm(kr.kron(core.eye(a.shape[0]), _col(b)), R.of(a))
        return _mm(kr.kron(_col(a), core.eye(b.shape[0])), R.of(b))
    # Magnus & Neudecker (1999), Thm 3.10: vec(A ⊗ B) = (I_q ⊗ K_{s,p} ⊗ I_r)(vec A ⊗ vec B).
    (p, q), (r, s) = a.shape, b.shape
    perm = kr.kron(kr.kron(core.eye(q), kr.commutation(s, p)), core.eye(r))
    if da:
        return _mm(perm, _mm(kr.kron(core.eye(p * q), _col(b)), R.of(a)))
    return _mm(perm, _mm(kr.kron(_col(a), core.eye(r * s)), R.of(b)))


_RULES: dict = {
    core.NAME: _r_name,
    arith.NEG_OP: _r_neg,
    arith.ADD_OP: _r_addsub,
    arith.SUB_OP: _r_addsub,
    arith.MUL_OP: _r_hadamard,
    arith.DIV_OP: _r_hadamard,
    arith.POW_OP: _r_pow,
    linalg.MATMUL: _r_matmul,
    linalg.OUTER: _r_outer,
    linalg.DIAG: _r_diag,
    shape.T: _r_transpose,
    shape.RESHAPE: _r_same,
    shape.BROADCAST: _r_broadcast,
    shape.SUM_TO: _r_sum_to,
    reduce.SUM: _r_sum,
    kr.KRON: _r_kron,
    kr.VEC: _r_same,
    kr.UNVEC: _r_same,
}


def linear_matrix(e: Node, u: Node) -> Node:
    """The matrix M with vec(e) = M vec(u), for an expression e linear in the variable u
    (unsimplified). Raises UnsupportedError where e is not linear in u or has no matrix form."""
    return _Reader(u).read(e)


# ---- the public functions --------------------------------------------------------------------
def _wrt(x) -> tuple[Node, bool]:
    """(variable, taken in vec form)."""
    if isinstance(x, Node) and x.op is kr.VEC and x.args[0].op is core.VAR:
        return x.args[0], True
    if not isinstance(x, Node) or x.op is not core.VAR or x.params[2] == "upstream":
        what = describe(x) if isinstance(x, Node) else repr(x)
        raise DifferentiationError(
            f"a Jacobian is taken with respect to a variable or the vec of a matrix variable "
            f"(sg.vec(X)), not {what}"
        )
    return x, False


def _fresh(like: Node, exprs: list[Node], stem: str = "u", kind: str = "var") -> Node:
    """A variable of like's shape whose name no variable of `exprs` uses (nodes are interned by
    name: a clash would silently identify the two)."""
    taken = {v.params[0] for v in variables(exprs)}
    name, k = stem, 0
    while name in taken:
        name, k = f"{stem}_{k}", k + 1
    return core.variable(name, *like.shape, kind=kind)


def _too_many_axes(y: Node, x: Node, what: str) -> UnsupportedError:
    hint = []
    if y.ndim == 2:
        hint.append("sg.vec(Y) for the output")
    if x.ndim == 2:
        hint.append("sg.vec(X) for the variable")
    return UnsupportedError(
        f"the {what} of {describe(y)} w.r.t. {describe(x)} has {y.ndim + x.ndim} axes and "
        f"symgrad writes at most 2; take it in Magnus–Neudecker vec form "
        f"({' and '.join(hint) or 'reshape to vectors'})"
    )


def jacobian(y: Node | float, x: Node, simplify: bool = True) -> Node:
    """dy/dx in numerator layout: shape y.shape + x.shape (as jax.jacobian).

    For vectors y (m,) and x (n,) this is the (m, n) matrix with J[i, j] = dy_i/dx_j; for a
    scalar y it is the gradient, for a scalar x the derivative dy/dx. Matrices enter in vec
    form: jacobian(vec(A @ X @ B), vec(X)) is Bᵀ ⊗ A. vec stacks columns.
    """
    y = core.as_node(y)
    var, is_vec = _wrt(x)
    xs = var.shape if not is_vec else (_n(var.shape),)
    if y.ndim + len(xs) > 2:
        raise _too_many_axes(y, var, "Jacobian")
    if y.ndim == 0:  # the gradient
        g = vjp(y, var, core.number(1), simplify=simplify)
        out = kr.vec(g) if is_vec else g
    else:
        u = _fresh(y, [y, var])
        g = vjp(y, var, u, simplify=simplify)  # = Jᵀ u, linear in u
        if var.ndim == 0:  # a scalar <J, u>: its gradient w.r.t. u is J itself
            (out,) = backprop(g, core.number(1), [u])
        else:
            out = shape.reshape(shape.transpose(linear_matrix(g, u)), y.shape + xs)
    return _finish(out, simplify)


def hessian(L: Node | float, x: Node, simplify: bool = True) -> Node:
    """The Hessian d²L/dx dxᵀ of a scalar L: an (n, n) symmetric matrix for a vector x, the
    (nm, nm) matrix of vec(X) for hessian(L, sg.vec(X)); a scalar for a scalar x.

    L is simplified first (log(1 + exp(t)) is softplus(t), ...), then H is the Jacobian of the
    gradient, transposed into its symmetric simplified form: simplify(Hᵀ) is H.
    """
    L = core.as_node(L)
    if L.ndim != 0:
        raise ShapeError(f"a Hessian needs a scalar function; {describe(L)} is not one "
                         "(take the Jacobian of its gradient, or sum it)")
    var, is_vec = _wrt(x)
    if var.ndim == 2 and not is_vec:
        raise UnsupportedError(
            f"the Hessian w.r.t. the matrix {describe(var)} has 4 axes and symgrad writes at "
            f"most 2; take it w.r.t. sg.vec({var.params[0]}) (the Magnus–Neudecker form)")
    Ls = _simplify(L) if simplify else L
    g = vjp(Ls, var, core.number(1), simplify=simplify)  # derivatives say the names given
    if var.ndim == 0:
        return _finish(vjp(g, var, core.number(1), simplify=simplify), simplify)
    u = _fresh(var, [Ls, var])
    h = vjp(g, var, u, simplify=simplify)  # = H u (H symmetric), linear in u
    H = shape.transpose(linear_matrix(h, u))
    if not simplify:
        return H
    return symmetric_form(_finish(H, True))


def _finish(e: Node, simplify: bool) -> Node:
    return common_scalar(_simplify(e)) if simplify else e


def symmetric_form(H: Node) -> Node:
    """H in a form fixed by transposition (simplify(Hᵀ) is H) when one is reached; else H."""
    for _ in range(3):
        Ht = _simplify(shape.transpose(H))
        if Ht is H:
            return H
        H = common_scalar(Ht)
    return H


def common_scalar(e: Node) -> Node:
    """c (A - B) rather than c A - c B when every term shares a scalar factor c that is not a
    plain number (the textbook (1ᵀy)(diag(s) - s sᵀ)). The value is unchanged."""
    from . import algebra

    if e.ndim == 0 or e.op not in (arith.ADD_OP, arith.SUB_OP):
        return e
    t = algebra.terms(e)
    if len(t) < 2:
        return e
    cs = list(t.values())
    common = cs[0]
    try:
        for c in cs[1:]:
            common = sympy.gcd(common, c)
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):  # not polynomial: leave it be
        return e
    common = sympy.factor_terms(common)
    _, symbolic = common.as_coeff_Mul()
    if not symbolic.free_symbols or symbolic == 1:
        return e
    inner = algebra.rebuild({m: sympy.cancel(c / symbolic) for m, c in t.items()}, e.shape)
    out = arith.mul(algebra.from_sympy(symbolic), inner)
    return out if _simplify(out) is out else e


# ---- second differentials as steps (for sg.derive(..., order=2)) --------------------------------
class Step(NamedTuple):
    """One line of a derivation: lhs = rhs. `lhs` is LaTeX, `lhs_text` the same in Unicode,
    `rhs` an expression, `why` a short justification."""

    lhs: str
    rhs: Node
    why: str
    lhs_text: str


def hessian_steps(L: Node, x: Node) -> list[Step]:
    """The second-differential derivation of hessian(L, x), as data for a printer.

    Steps: the gradient g = ∂L/∂x; the first differential dL = gᵀ dx; the second differential
    d²L = dxᵀ (∂g/∂x) dx, written with the differential dg = vjp(g, x, dx) read off by the
    VJP; the Hessian H read off d²L = dxᵀ H dx (symmetric). For a matrix variable taken as
    sg.vec(X), dx is vec(dX) and the inner products are traces. dx prints as "dx" (a variable
    named "d<x>"). The last step's rhs is hessian(L, x).
    """
    L = core.as_node(L)
    H = hessian(L, x)
    var, is_vec = _wrt(x)
    name = var.params[0]
    dx = _fresh(var, [L, var], "d" + name, kind="differential")
    g = _simplify(backprop(_simplify(L), core.number(1), [var])[0])
    dg = _simplify(backprop(g, dx, [var])[0])
    dvec = kr.vec(dx) if is_vec else dx
    inner = (lambda a, b: linalg.trace(linalg.matmul(shape.transpose(a), b))) \
        if var.ndim == 2 else (lambda a, b: linalg.matmul(a, b) if a.ndim else arith.mul(a, b))
    xl = rf"\operatorname{{vec}}({name})" if is_vec else name
    d2 = _simplify(inner(dx, dg))
    quad = linalg.matmul(dvec, linalg.matmul(H, dvec)) if dvec.ndim else dx * H * dx
    steps = [
        Step(rf"\frac{{\partial L}}{{\partial {name}}}", g, "the gradient (reverse mode)",
             f"∂L/∂{name}"),
        Step(r"\mathrm{d}L", inner(g, dx), "first differential: dL = <∂L/∂x, dx>", "dL"),
        Step(r"\mathrm{d}^2 L", d2,
             "second differential: d²L = <dx, d(∂L/∂x)>, the differential of the gradient "
             "taken along dx (a VJP, linear in dx)", "d²L"),
        Step(r"\mathrm{d}^2 L", quad,
             "read as a quadratic form in " + ("vec(dX)" if is_vec else "dx"), "d²L"),
        Step(rf"\frac{{\partial^2 L}}{{\partial {xl} \, \partial {xl}^{{\top}}}}", H,
             "the Hessian read off d²L = dxᵀ H dx (symmetric)", f"∂²L/∂{name}∂{name}ᵀ"),
    ]
    if var.ndim == 0:
        steps[-1] = steps[-1]._replace(lhs=rf"\frac{{\partial^2 L}}{{\partial {name}^2}}",
                                       lhs_text=f"∂²L/∂{name}²")
    if _simplify(quad) is d2:  # the second differential already reads dxᵀ H dx
        del steps[3]
    return steps
