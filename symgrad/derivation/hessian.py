"""Second-order derivations (sg.derive(..., order=2)): the gradient, the first differential,
the second differential d²L = dxᵀ (∂g/∂x) dx, and the Hessian read off the quadratic form."""

from __future__ import annotations

from ..errors import DifferentiationError
from ..grad import backprop
from ..jacobian import _fresh, _wrt, hessian
from ..node import Node
from ..ops import arith, core, linalg, shape
from ..ops import kron as kr
from ..simplify import simplify
from .build import Builder
from .model import Derivation, Equation, Step
from .options import DerivationOptions


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
    name = var.params[0]
    dx = _fresh(var, [y, var], "d" + name)
    g = simplify(backprop(simplify(y), core.number(1), [var])[0])
    dg = simplify(backprop(g, dx, [var])[0])
    dvec = kr.vec(dx) if is_vec else dx
    xl = rf"\operatorname{{vec}}({name})" if is_vec else name
    d2 = simplify(_inner(var, dx, dg))
    quad = linalg.matmul(dvec, linalg.matmul(H, dvec)) if dvec.ndim else dx * H * dx
    if var.ndim == 0:
        hess_tex, hess_text = rf"\frac{{\partial^2 L}}{{\partial {name}^2}}", f"∂²L/∂{name}²"
    else:
        hess_tex = rf"\frac{{\partial^2 L}}{{\partial {xl} \, \partial {xl}^{{\top}}}}"
        hess_text = f"∂²L/∂{name}∂{name}ᵀ"

    def lhs(tex: str, text: str, like: Node) -> Node:
        return b.symbol(f"hess({text})", like.shape, tex, text)

    # Prose in plain words: it goes into \intertext, where pdflatex takes no Unicode math.
    second = [Equation(lhs(r"\mathrm{d}^2 L", "d²L", d2), d2)]
    if simplify(quad) is not d2:  # unless the second differential already reads dxᵀ H dx
        second.append(Equation(None, quad, ("read as a quadratic form",)))
    steps = [
        Step("gradient", (Equation(lhs(rf"\frac{{\partial L}}{{\partial {name}}}", f"∂L/∂{name}",
                                       g), g),),
             ("The gradient, by reverse mode:",)),
        Step("differential", (Equation(lhs(r"\mathrm{d}L", "dL", core.number(0)),
                                       _inner(var, g, dx)),),
             ("The first differential, the gradient against dx:",)),
        Step("second", tuple(second),
             ("The second differential, the differential of the gradient along dx (linear in "
              "dx):",)),
        Step("hessian", (Equation(lhs(hess_tex, hess_text, H), H),),
             ("The Hessian, read off the quadratic form (symmetric):",)),
    ]
    b.symbols[dx] = b.printed(dx)
    return Derivation(y, [var], steps, {var: H}, b.opts, b.symbols, [], {var: dx}, None,
                      "hessian", {})
