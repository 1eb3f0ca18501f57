"""Step-by-step derivations, printed as a paper prints them: sg.derive(y, wrt) -> Derivation.

Two shapes of derivation, chosen by the expression:

- *Differential* (one layer: the founding example, the Matrix Cookbook): the expression as
  given (broadcasts marked ⊕), made explicit (b 1ᵀ), its differential df, the chain rule
  dL = tr((∂L/∂f)ᵀ df), and each gradient read off by trace cyclicity.
- *Batched* (arrays of three or more axes: a batched layer X W + b, X of shape (B, T, d)):
  the expression as given in index notation, then each slice in matrix notation (f_i = X_i W
  + 1 bᵀ) derived as above, and the slices' gradients summed over the batch (Σ_i X_iᵀ G_i).
- *Backprop* (deep: named or nonlinear intermediates): a forward pass that names the
  intermediates (Z₁ = X W₁ + 1 b₁ᵀ, H₁ = tanh(Z₁), ...), then one line per intermediate with
  barred cotangents (H̄₁ = Z̄₂ W₂ᵀ, Z̄₁ = H̄₁ ⊙ (1 - H₁∘²)), then each gradient.

No new per-op rule is needed. A differential is the transpose of the VJP: for an op linear in
an argument, the tangent is the op applied to the argument's tangent; otherwise it is the
gradient over u of <t, vjp(u)>, which is linear in u, computed by symgrad's own reverse mode.
Every step is an equation whose sides evaluate to numbers: Derivation.verify() checks them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DifferentiationError, UnsupportedError
from ..grad import _check_wrt
from ..node import Node, describe, topo
from ..ops import core
from ..tensor_print import needs_index_notation
from .batch import batched_derivation
from .build import Builder, user_variables
from .hessian import hessian_derivation
from .model import Check, Derivation, Equation, Part, Step
from .options import DerivationOptions
from .tex import compile_latex, pdf_pages
from .verify import VerifyReport

__all__ = ["Check", "Derivation", "DerivationOptions", "Equation", "Part", "Step",
           "VerifyReport", "compile_latex", "derive", "pdf_pages"]


def derive(y: Node | float, wrt: Node | Sequence[Node] | None = None,
           options: DerivationOptions | None = None, order: int = 1, **kw) -> Derivation:
    """A step-by-step derivation of the gradients of y w.r.t. wrt (default: every variable).

    y is a scalar objective, or a non-scalar f back-propagated against a symbolic upstream
    gradient ∂L/∂f. order=2: the Hessian of a scalar y w.r.t. one variable (or sg.vec(X)),
    through the second differential. Keywords are DerivationOptions fields (differential,
    cotangent, notes, name_intermediates) or Style fields (transpose, ones, bold, loss,
    upstream, size_subscripts).
    """
    y = core.as_node(y)
    batched = any(needs_index_notation(n) for n in topo(y))
    opts = DerivationOptions.make(options, **kw)
    if order == 2 and batched:
        raise UnsupportedError(
            f"derive(order=2) writes Hessians in matrix notation; {describe(y)} has arrays of "
            f"three or more axes (use sg.hessian, which prints in index notation)")
    if order == 2:
        return hessian_derivation(y, wrt, opts)
    if order != 1:
        raise DifferentiationError(f"derive() takes order=1 (gradients) or 2 (a Hessian), "
                                   f"not {order!r}")
    if wrt is None:
        xs = user_variables(y)
        if not xs:
            raise DifferentiationError(f"{y} has no variables to differentiate with respect to")
    else:
        many = isinstance(wrt, (list, tuple))
        xs = [_check_wrt(v) for v in (wrt if many else [wrt])]
        if not xs:
            raise DifferentiationError("derive() needs at least one variable in wrt")
        seen: set[Node] = set()
        for v in xs:
            if v in seen:
                raise DifferentiationError(f"{v.params.name} is listed twice in wrt")
            seen.add(v)
    for v in xs:
        if v.params.kind == core.Kind.SYMBOL:
            raise DifferentiationError(f"{v.params.name} is a symbol of a derivation, "
                                       "not a variable")
    if batched:
        return batched_derivation(y, xs, opts)
    return Builder(y, xs, opts).build()

