"""symgrad: symbolic matrix calculus with NumPy broadcasting, printed as a paper writes it."""

from __future__ import annotations

from .check import Verdict, check
from .codegen import codegen, lambdify
from .derivation import Derivation, DerivationOptions, derive
from .display import latex, show, unicode
from .errors import (
    AmbiguousInputError,
    DifferentiationError,
    EvaluationError,
    ExpressionTypeError,
    InputSyntaxError,
    InvalidNameError,
    LatexError,
    LatexSyntaxError,
    ShapeError,
    SizeError,
    SymgradError,
    SymgradWarning,
    ToolError,
    UnknownSymbolError,
    UnsupportedError,
)
from .explicit import explicit
from .grad import grad, vjp
from .interop import from_sympy, to_sympy
from .jacobian import hessian, jacobian
from .latex_in.parser import parse
from .node import Node
from .numeric import evaluate
from .ops.api import (
    abs_ as abs,
)
from .ops.api import (
    broadcast_to,
    constant,
    cos,
    cumsum,
    det,
    diag,
    dims,
    einsum,
    elementwise,
    exp,
    expand_dims,
    eye,
    inv,
    log,
    logdet,
    logsumexp,
    matrix,
    mean,
    name,
    norm,
    ones,
    outer,
    relu,
    reshape,
    scalar,
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    sum_to,
    swapaxes,
    tanh,
    tensor,
    trace,
    transpose,
    vector,
    zeros,
)
from .ops.api import (
    sum_ as sum,
)
from .ops.kron import commutation, kron, unvec, vec
from .printing import Style
from .simplify import simplify
from .testing import gradcheck

__version__ = "0.1.0"

__all__ = [
    "DifferentiationError", "EvaluationError", "ExpressionTypeError", "InvalidNameError", "Node",
    "ShapeError", "SizeError", "Style",
    "Derivation", "DerivationOptions", "ToolError", "derive",
    "SymgradError", "UnsupportedError", "abs", "broadcast_to", "codegen", "cos", "cumsum", "det",
    "diag",
    "dims", "elementwise", "evaluate", "exp", "explicit", "eye", "grad", "gradcheck", "inv",
    "lambdify", "latex",
    "log", "logdet", "logsumexp", "matrix", "mean", "name", "norm", "ones", "outer", "relu",
    "reshape", "scalar", "sigmoid", "simplify", "sin", "softmax", "softplus", "sqrt", "sum",
    "sum_to", "tanh", "trace", "unicode", "vector", "vjp", "zeros",
    "commutation", "constant", "hessian", "jacobian", "kron", "unvec", "vec",
    "einsum", "expand_dims", "swapaxes", "tensor", "transpose",
    "AmbiguousInputError", "LatexError", "LatexSyntaxError", "UnknownSymbolError", "Verdict",
    "check", "parse", "from_sympy", "to_sympy", "show", "InputSyntaxError", "SymgradWarning",
]
