"""Jacobians and Hessians in matrix notation, read off vector-Jacobian products.

The VJP g = vjp(y, x, u) is linear in the upstream u. Structural rules turn it into the matrix
M with vec(g) = M vec(u) (u -> I, A e -> A M(e), e ⊙ v -> diag(v) M(e), sums, broadcasts,
reductions, and for matrices the Magnus–Neudecker forms vec(A E B) = (Bᵀ ⊗ A) vec(E),
vec(Eᵀ) = K vec(E)). Then J = Mᵀ (numerator layout, shape y.shape + x.shape, as jax.jacobian)
and H = the Jacobian of the gradient. Each rule is exact: an op the rules do not know, or a
VJP that is not linear in u, raises UnsupportedError rather than guessing. vec stacks columns.

Shapes: a Jacobian has y.ndim + x.ndim axes. Up to two, it is read in matrix form as above
(matrix-valued inputs or outputs in vec form when asked: jacobian(vec(Y), vec(X)),
hessian(L, vec(X))); beyond two, or through arrays of three or more axes, the VJP is batched
over unit upstreams (symgrad.batching), and a vec form asked for stacks the full Jacobian's axes
column-major.
"""

from __future__ import annotations

import sympy

from . import algebra, batching
from .errors import DifferentiationError, ShapeError, UnsupportedError
from .grad import backprop, vjp
from .node import Node, describe, topo
from .numeric import variables
from .ops import arith, core, linalg, shape
from .ops import kron as kr
from .shapes import numel
from .simplify import simplify as _simplify
from .tensor_print import needs_index_notation

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
        rule = n.op.matrix_form
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

    # The vec algebra the ops' matrix forms (Op.matrix_form) are written in.
    mm = staticmethod(_mm)
    col = staticmethod(_col)
    row = staticmethod(_row)
    apply = staticmethod(_apply)
    bcast_map = staticmethod(_bcast_map)
    sum_map = staticmethod(_sum_map)
    diag_embed = staticmethod(_diag_embed)
    kron = staticmethod(kr.kron)
    commutation = staticmethod(kr.commutation)
    vec = staticmethod(kr.vec)
    diag = staticmethod(linalg.diag)
    eye = staticmethod(core.eye)


def linear_matrix(e: Node, u: Node) -> Node:
    """The matrix M with vec(e) = M vec(u), for an expression e linear in the variable u
    (unsimplified). Raises UnsupportedError where e is not linear in u or has no matrix form."""
    return _Reader(u).read(e)


# ---- the public functions --------------------------------------------------------------------
def _wrt(x) -> tuple[Node, bool]:
    """(variable, taken in vec form)."""
    if isinstance(x, Node) and x.op is kr.VEC and x.args[0].op is core.VAR:
        return x.args[0], True
    if not isinstance(x, Node) or x.op is not core.VAR or core.is_upstream(x):
        what = describe(x) if isinstance(x, Node) else repr(x)
        raise DifferentiationError(
            f"a Jacobian is taken with respect to a variable or the vec of a matrix variable "
            f"(sg.vec(X)), not {what}"
        )
    return x, False


def _fresh(like: Node, exprs: list[Node], stem: str = "u", kind: str = "var") -> Node:
    """A variable of like's shape whose name no variable of `exprs` uses (nodes are interned by
    name: a clash would silently identify the two)."""
    taken = {v.params.name for v in variables(exprs)}
    name, k = stem, 0
    while name in taken:
        name, k = f"{stem}_{k}", k + 1
    return core.variable(name, *like.shape, kind=kind)


def _mixed_vec(y: Node, x: Node) -> UnsupportedError:
    return UnsupportedError(
        f"the vec form of the Jacobian of {describe(y)} w.r.t. {describe(x)} would keep "
        f"{y.ndim + 1} axes: take the vec of the output too (sg.vec(Y)), or the Jacobian "
        f"w.r.t. {x.params.name} itself (shape y.shape + x.shape)"
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
    if y.ndim + len(xs) > 2 and is_vec:
        raise _mixed_vec(y, var)
    if y.ndim + len(xs) > 2 or _has_tensors(y):  # beyond matrices: the VJP batched over
        # unit upstreams (in vec form: the variable's axes then stacked column-major)
        J = _batched_jacobian(y, var, simplify)
        return _finish(_vec_axes(J, y.ndim) if is_vec else J, simplify)
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


def _has_tensors(e: Node) -> bool:
    """Does e have arrays beyond matrices (which the matrix-form reader does not know)?"""
    return any(needs_index_notation(n) for n in topo(e))


def _vec_axes(J: Node, at: int) -> Node:
    """J with its two axes at, at + 1 (a matrix's row and column) stacked column-major into
    one, as vec does: J[..., i, j, ...] is entry i + p j of the new axis (p rows)."""
    if J.ndim < at + 2:
        return J
    p, q = J.shape[at:at + 2]
    perm = list(range(J.ndim))
    perm[at], perm[at + 1] = at + 1, at
    return shape.reshape(shape.transpose(J, tuple(perm)),
                         J.shape[:at] + (_n((p, q)),) + J.shape[at + 2:])


def _batched_jacobian(y: Node, x: Node, simplify: bool) -> Node:
    """J of shape y.shape + x.shape: g = vjp(y, x, u) with u the identity of y.shape + y.shape
    (symgrad.batching)."""
    if y.ndim == 0:
        return vjp(y, x, core.number(1), simplify=simplify)
    u = _fresh(y, [y, x])
    g = vjp(y, x, u, simplify=simplify)
    J = batching.batch(g, u, batching.identity(y.shape))
    return J if J.shape == y.shape + x.shape else core.zeros(*(y.shape + x.shape))


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
    Ls = _simplify(L) if simplify else L
    if (var.ndim >= 2 and not is_vec) or _has_tensors(Ls):  # the Jacobian of the gradient,
        # batched (4 or more axes, or arrays beyond matrices inside)
        g = vjp(Ls, var, core.number(1), simplify=simplify)
        H = _batched_jacobian(g, var, simplify)
        return _finish(_vec_axes(_vec_axes(H, 0), 1) if is_vec else H, simplify)
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
