"""An independent evaluator: a symgrad expression translated to PyTorch (float64), op by op.

The translation is written from the NumPy semantics of each op (the `numpy` lambdas in
symgrad/ops/*.py) using torch's own functions, so that torch.autograd gives derivatives that
owe nothing to symgrad's VJP rules. An op missing from TORCH_OPS raises OracleError: a new op
must get a translation here before the suite passes.
"""

from __future__ import annotations

import sympy
import torch

from symgrad.node import Node, topo

DTYPE = torch.float64


class OracleError(KeyError):
    pass


def _ints(shape, sizes) -> tuple[int, ...]:
    return tuple(int(sympy.sympify(s).subs(sizes)) for s in shape)


def _number(n, args, sizes):
    return torch.tensor(float(sympy.sympify(n.params[0]).subs(sizes)), dtype=DTYPE)


def _var(n, args, sizes):
    raise OracleError(f"variable {n.params[0]!r} has no value in the torch environment")


def _sum_to(n, args, sizes):
    (x,) = args
    shape = _ints(n.params[0], sizes)
    lead = x.ndim - len(shape)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    return x.sum(dim=axes, keepdim=True) if axes else x


def _reduce(fn):
    def f(n, args, sizes):
        axes, keepdims = n.params
        return fn(args[0], dim=tuple(axes), keepdim=bool(keepdims))

    return f


def _softmax(n, args, sizes):
    (x,) = args
    axes = tuple(n.params[0])
    if len(axes) == 1:
        return torch.softmax(x, dim=axes[0])
    return torch.exp(x - torch.logsumexp(x, dim=axes, keepdim=True))


def _step(n, args, sizes):
    # Heaviside step (0 at 0, as (v > 0) in NumPy); piecewise constant: zero derivative.
    return (args[0] > 0).to(DTYPE)


def _vec(x: torch.Tensor) -> torch.Tensor:
    """The columns of x stacked (column-major, Magnus & Neudecker)."""
    return torch.transpose(x, 0, 1).reshape(-1)


def _unvec(v: torch.Tensor, p: int, q: int) -> torch.Tensor:
    """The inverse of vec: column j of the (p, q) result is v[j p : (j + 1) p]."""
    return torch.transpose(v.reshape(q, p), 0, 1)


def _commutation(n, args, sizes):
    # By definition, K vec(A) = vec(Aᵀ) for every (p, q) matrix A: column k of K is the image
    # of the k-th unit vector.
    p, q = _ints(n.params[1], sizes)
    cols = [_vec(_unvec(e, p, q).T) for e in torch.eye(p * q, dtype=DTYPE)]
    return torch.stack(cols, dim=1)


def _unary(fn):
    return lambda n, args, sizes: fn(args[0])


def _binary(fn):
    return lambda n, args, sizes: fn(args[0], args[1])


# op name -> (node, torch argument tensors, sizes) -> torch tensor
TORCH_OPS = {
    # leaves and identities
    "var": _var,
    "number": _number,
    "constant": lambda n, args, sizes: torch.tensor(float(n.params[1]), dtype=DTYPE),
    "ones": lambda n, args, sizes: torch.ones(_ints(n.shape, sizes), dtype=DTYPE),
    "zeros": lambda n, args, sizes: torch.zeros(_ints(n.shape, sizes), dtype=DTYPE),
    "eye": lambda n, args, sizes: torch.eye(_ints(n.shape, sizes)[0], dtype=DTYPE),
    "name": lambda n, args, sizes: args[0],
    # shape ops
    "transpose": _unary(lambda x: torch.transpose(x, -1, -2)),
    "reshape": lambda n, args, sizes: torch.reshape(args[0], _ints(n.params[0], sizes)),
    "broadcast_to": lambda n, args, sizes: torch.broadcast_to(args[0],
                                                              _ints(n.params[0], sizes)),
    "sum_to": _sum_to,
    "permute": lambda n, args, sizes: torch.permute(args[0], n.params[0]),
    "regroup": lambda n, args, sizes: torch.reshape(args[0], _ints(n.params[0], sizes)),
    # arithmetic (NumPy broadcasting, which torch shares)
    "add": _binary(torch.add),
    "sub": _binary(torch.sub),
    "neg": _unary(torch.neg),
    "mul": _binary(torch.mul),
    "div": _binary(torch.div),
    "pow": _binary(torch.pow),
    # elementwise functions
    "exp": _unary(torch.exp),
    "log": _unary(torch.log),
    "sqrt": _unary(torch.sqrt),
    "tanh": _unary(torch.tanh),
    "sigmoid": _unary(torch.sigmoid),
    "step": _step,
    "relu": _unary(torch.relu),
    "softplus": _unary(lambda x: torch.nn.functional.softplus(x, beta=1.0, threshold=1e9)),
    "sin": _unary(torch.sin),
    "cos": _unary(torch.cos),
    "sign": _unary(torch.sign),
    "abs": _unary(torch.abs),
    # linear algebra
    "matmul": _binary(torch.matmul),
    "einsum": lambda n, args, sizes: torch.einsum(
        ",".join(n.params[0]) + "->" + n.params[1], *args),
    "outer": _binary(torch.outer),
    "trace": _unary(torch.trace),
    "inv": _unary(torch.linalg.inv),
    "det": _unary(torch.linalg.det),
    "logdet": _unary(torch.logdet),  # NaN where det <= 0, as symgrad's
    "diag": _unary(torch.diag),  # vector -> diagonal matrix, square matrix -> its diagonal
    "norm": _unary(lambda x: torch.sqrt(torch.sum(x * x))),
    # Kronecker calculus
    "kron": _binary(lambda a, b: torch.kron(a.contiguous(), b.contiguous())),  # it views
    "vec": _unary(_vec),
    "unvec": lambda n, args, sizes: _unvec(args[0], *_ints(n.params[0], sizes)),
    "commutation": _commutation,
    # reductions
    "sum": _reduce(torch.sum),
    "logsumexp": _reduce(torch.logsumexp),
    "cumsum": lambda n, args, sizes: torch.cumsum(args[0], dim=n.params[0]),
    "softmax": _softmax,
}


def to_torch(exprs, env: dict, sizes: dict | None = None):
    """Evaluate a symgrad expression (or a list) in torch; env maps variable nodes to tensors."""
    sizes = sizes or {}
    many = isinstance(exprs, (list, tuple))
    roots = list(exprs) if many else [exprs]
    vals: dict[Node, torch.Tensor] = {}
    for n in topo(roots):
        if n.op.name == "var" and n in env:
            vals[n] = env[n]
            continue
        fn = TORCH_OPS.get(n.op.name)
        if fn is None:
            raise OracleError(
                f"the torch oracle has no translation for op {n.op.name!r}: add one to "
                "tests/torch_oracle.py"
            )
        out = fn(n, [vals[a] for a in n.args], sizes)
        want = _ints(n.shape, sizes)
        if tuple(out.shape) != want:
            raise AssertionError(
                f"torch oracle: {n.op.name} gave shape {tuple(out.shape)}, symgrad says {want}"
            )
        vals[n] = out
    out = [vals[r] for r in roots]
    return out if many else out[0]


def tensor(a) -> torch.Tensor:
    """A float64 leaf tensor that requires grad, from a NumPy array (copied)."""
    return torch.tensor(a, dtype=DTYPE).requires_grad_(True)


def inner(u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """<u, y>: the scalar whose gradient is the VJP of y with upstream u."""
    return torch.sum(u * y)


def grads(out: torch.Tensor, inputs, create_graph: bool = False,
          retain_graph: bool | None = None) -> list[torch.Tensor]:
    """d out / d inputs for a scalar `out`; zeros where out does not depend on an input."""
    inputs = list(inputs)
    if not out.requires_grad:
        return [torch.zeros_like(x) for x in inputs]
    gs = torch.autograd.grad(out, inputs, allow_unused=True, create_graph=create_graph,
                             retain_graph=retain_graph)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, gs)]


def numpy(t: torch.Tensor):
    """A tensor's values as a NumPy array (autograd may return lazy zero tensors)."""
    return t.detach().numpy(force=True)
