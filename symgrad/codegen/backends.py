"""What differs between NumPy, PyTorch and JAX in generated code, and Python's precedences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# Python operator precedences (higher binds tighter). MATMUL parses as MUL but is printed
# parenthesized next to * and / for the reader; FRAC is a size-dependent fraction 2/(N*c),
# parenthesized as a factor.
CMP, ADD, FRAC, MATMUL, MUL, UNARY, POW, ATOM = 30, 40, 45, 49, 50, 60, 70, 100


# ---- backends ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Backend:
    """The spellings that differ between NumPy, PyTorch and JAX."""

    name: str
    module: str  # the alias array functions hang off: np, torch, jnp
    imports: tuple[tuple[str, str], ...]  # (prefix used in code, import line)
    axis_kw: str  # axis / dim
    keep_kw: str  # keepdims / keepdim
    renames: dict[str, str] = field(default_factory=dict)  # functions named differently
    # Optional native spellings of whole operations: key -> (emitter, *arg handles) -> text.
    natives: dict[str, Callable[..., str]] = field(default_factory=dict)
    literal: str = "{0}"  # a number where a function needs an array (torch.exp needs a tensor)
    default_dtype: str = "float"


def _torch_softplus(B, x):  # log(1 + e^x) without overflow
    return B.code(f"torch.relu({x}) + torch.log1p(torch.exp(-torch.abs({x})))", ADD)


NUMPY = Backend("numpy", "np", (("np.", "import numpy as np"),
                                ("oe.", "import opt_einsum as oe")), "axis", "keepdims")
TORCH = Backend(
    "torch", "torch", (("torch.", "import torch"),), "dim", "keepdim",
    renames={"max": "amax"},
    natives={
        "sigmoid": lambda B, x: f"torch.sigmoid({x})",
        "relu": lambda B, x: f"torch.relu({x})",
        "softplus": _torch_softplus,
        "step": lambda B, x: f"({x.at(ADD)} > 0).to({x.at(ATOM)}.dtype)",
        "logdet": lambda B, x: f"torch.logdet({x})",  # NaN where det <= 0, as symgrad's
        "logsumexp": lambda B, x, axes, kd: (  # max-shifted inside torch
            f"torch.logsumexp({x}, dim={B.axes(axes)}{', keepdim=True' if kd else ''})"),
        "softmax": lambda B, x, axes: f"torch.softmax({x}, dim={axes[0]})" if len(
            axes) == 1 else None,
    },
    literal="torch.as_tensor({0}, dtype={dtype})",
    default_dtype="torch.float64",
)
JAX = Backend(
    "jax", "jnp", (("jnp.", "import jax.numpy as jnp"), ("jax.", "import jax")),
    "axis", "keepdims",
    natives={
        "sigmoid": lambda B, x: f"jax.nn.sigmoid({x})",
        "relu": lambda B, x: f"jax.nn.relu({x})",
        "softplus": lambda B, x: f"jax.nn.softplus({x})",
        "logsumexp": lambda B, x, axes, kd: (
            f"jax.nn.logsumexp({x}, axis={B.axes(axes)}{', keepdims=True' if kd else ''})"),
        "softmax": lambda B, x, axes: f"jax.nn.softmax({x}, axis={B.axes(axes)})",
    },
)
BACKENDS: dict[str, Backend] = {b.name: b for b in (NUMPY, TORCH, JAX)}
