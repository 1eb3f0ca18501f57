"""Second-order derivations (sg.derive(..., order=2)): the gradient, the first differential,
the second differential d²L = dxᵀ (∂g/∂x) dx, and the Hessian read off the quadratic form."""

from __future__ import annotations

from ..errors import DifferentiationError
from ..grad import backprop
from ..jacobian import _wrt, hessian
from ..node import Node
from ..ops import arith, core, linalg, shape
from ..ops import kron as kr
from ..simplify import simplify
from .build import Builder
from .model import Derivation, Equation, Step
from .options import DerivationOptions
from .render import unicode_token


def _inner(var: Node, a: Node, b: Node) -> Node:
    """<a, b> for the variable's kind: tr(aᵀ b) for a matrix, aᵀ b for a vector, a b else."""
    if var.ndim == 2:
        return linalg.trace(linalg.matmul(shape.transpose(a), b))
    return linalg.matmul(a, b) if a.ndim else arith.mul(a, b)


def hessian_derivation(y: Node, wrt, opts: DerivationOptions) -> Derivation:
    """The second-order derivation of hessian(y, wrt). For a matrix variable taken as
    sg.vec(X), dx is vec(dX) and the inner products are traces. verify() checks dL against
    finite differences and the quadratic form against the second differential it continues."""
    if isinstance(wrt, (list, tuple)):
        if len(wrt) != 1:
            raise DifferentiationError("derive(order=2) takes one variable (or sg.vec(X))")
        wrt = wrt[0]
    if wrt is None or y.ndim:
        raise DifferentiationError("derive(order=2) needs a scalar objective and one variable")
    var, is_vec = _wrt(wrt)
    b = Builder(y, [var], opts)
    H = hessian(y, wrt)
    # One differential symbol throughout (the options' d): dL, d²L and the direction dx.
    d, d_u = b.opts.differential, unicode_token(b.opts.differential)
    loss, loss_u = b.loss, b.loss_u
    dx = b.differential(var, *b.printed(var))
    g = simplify(backprop(simplify(y), core.number(1), [var])[0])
    dg = simplify(backprop(g, dx, [var])[0])
    dvec = kr.vec(dx) if is_vec else dx
    d2 = simplify(_inner(var, dx, dg))
    quad = linalg.matmul(dvec, linalg.matmul(H, dvec)) if dvec.ndim else dx * H * dx
    x_tex, x_text = b.printed(var)
    if var.ndim == 0:
        hess = rf"\frac{{\partial^2 {loss}}}{{\partial {x_tex}^2}}", f"∂²{loss_u}/∂{x_text}²"
    else:
        xl, xl_u = b.printed(wrt)
        hess = (rf"\frac{{\partial^2 {loss}}}{{\partial {xl} \, \partial {xl}"
                rf"{b.opts.style.transpose}}}", f"∂²{loss_u}/∂{xl_u}∂{xl_u}ᵀ")

    def lhs(tex: str, text: str, shape: tuple = ()) -> Node:
        return b.symbol(f"hess({text})", shape, tex, text)

    second = [Equation(lhs(rf"{d}^2 {loss}", f"{d_u}²{loss_u}"), d2)]
    if simplify(quad) is not d2:  # unless the second differential already reads dxᵀ H dx
        second.append(Equation(None, quad, ("read as a quadratic form",)))
    grad_lhs = lhs(rf"\frac{{\partial {loss}}}{{\partial {x_tex}}}", f"∂{loss_u}/∂{x_text}",
                   g.shape)
    steps = [
        Step("gradient", (Equation(grad_lhs, g),), ("The gradient, by reverse mode:",)),
        Step("differential", (Equation(lhs(f"{d}{loss}", f"{d_u}{loss_u}"), _inner(var, g, dx)),),
             ("The first differential, the gradient against ", dx, ":")),
        Step("second", tuple(second),
             ("The second differential, the differential of the gradient along ", dx,
              " (linear in ", dx, "):")),
        Step("hessian", (Equation(lhs(*hess, H.shape), H),),
             ("The Hessian, read off the quadratic form (symmetric):",)),
    ]
    b.check_symbols()
    return Derivation(y, [var], steps, {var: H}, b.opts, b.symbols, [], {var: dx}, None,
                      "hessian", {})
