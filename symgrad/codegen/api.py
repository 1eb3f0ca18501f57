"""The public functions: codegen() (source text) and lambdify() (a compiled function)."""

from __future__ import annotations

import importlib
import itertools
import linecache
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..display import Source
from ..errors import SymgradError, ToolError
from ..node import Node, topo
from ..ops import core
from .backends import BACKENDS
from .generator import Generator


# ---- public API ------------------------------------------------------------------------------
def _check(exprs, args) -> tuple[list[Node], list[Node], bool]:
    single = isinstance(exprs, Node) or not isinstance(exprs, (list, tuple))
    exprs = [core.as_node(e) for e in ([exprs] if single else exprs)]
    if not exprs:
        raise SymgradError("nothing to generate: give at least one expression")
    if isinstance(args, Node):
        args = [args]
    args = list(args)
    for a in args:
        if not isinstance(a, Node) or a.op is not core.VAR:
            raise SymgradError(
                f"the arguments must be variables (sg.matrix/vector/scalar), got {a!r}")
    dup = [a.params[0] for a, k in Counter(args).items() if k > 1]
    if dup:
        raise SymgradError(f"argument{'s' if len(dup) > 1 else ''} {', '.join(dup)} listed twice")
    given = set(args)
    missing = [n.params[0] for n in topo(exprs) if n.op is core.VAR and n not in given]
    if missing:
        raise SymgradError(
            f"the expressions need {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not in the arguments"
        )
    return exprs, args, single


def codegen(exprs: Node | Sequence[Node], args: Sequence[Node], backend: str = "numpy",
            name: str = "generated", names: Sequence[str] | None = None) -> Source:
    """Python source (a `str`; Jupyter shows it highlighted) of a function of `args`
    (variables, in order) returning `exprs`.

    backend is "numpy", "torch" or "jax"; the source imports only that library. Each shared
    subexpression is computed once, on a line named after what it is; the docstring gives
    the formulas; sizes are bound from the arguments' shapes, which are asserted. A list of
    expressions returns a tuple; `names` names the outputs' lines.
    """
    if backend not in BACKENDS:
        raise SymgradError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    exprs, args, single = _check(exprs, args)
    if names is not None:
        names = list(names)
        if len(names) != len(exprs) or not all(isinstance(s, str) and s.isidentifier()
                                                for s in names):
            raise SymgradError(f"names must be {len(exprs)} Python identifiers, got {names!r}")
    return Source(Generator(exprs, args, BACKENDS[backend], name, names, single).generate())


class GeneratedFunction:
    """A compiled generated function: call it with arrays; `.source` is its code."""

    _ids = itertools.count()

    def __init__(self, source: str, name: str, backend: str, arg_names: list[str]) -> None:
        self.source, self.backend, self.arg_names = source, backend, arg_names
        filename = f"<symgrad-{name}-{next(self._ids)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 -- our own source
        self.fn = namespace[name]
        self.__name__ = name
        self.__doc__ = self.fn.__doc__
        self._convert = _converter(backend)

    def __call__(self, *args, **kwargs):
        args = [self._convert(a) for a in args]
        kwargs = {k: self._convert(v) for k, v in kwargs.items()}
        return self.fn(*args, **kwargs)

    def _repr_markdown_(self) -> str:
        return Source(self.source)._repr_markdown_()

    def __repr__(self) -> str:
        return f"<symgrad {self.backend} function {self.__name__}({', '.join(self.arg_names)})>"


def _converter(backend: str) -> Callable[[Any], Any]:
    """Array-likes to the backend's arrays (lists to float64; float32 arrays stay float32)."""
    if backend == "numpy":
        def conv(x):
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                return x
            return np.asarray(x, dtype=float)
        return conv
    if backend == "torch":
        import torch

        def conv_t(x):
            return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, float))
        return conv_t
    import jax.numpy as jnp

    return jnp.asarray


def lambdify(exprs: Node | Sequence[Node], args: Sequence[Node], backend: str = "numpy",
             name: str = "generated", names: Sequence[str] | None = None) -> GeneratedFunction:
    """A Python function of arrays computing `exprs` from `args` (see `codegen`).

    `f = sg.lambdify([L, *sg.grad(L, [W, b])], [W, X, b, Y])`; `f(W, X, b, Y)` returns the
    values, and `f.source` is the generated code.
    """
    source = codegen(exprs, args, backend=backend, name=name, names=names)
    _require(backend)
    arg_list = [args] if isinstance(args, Node) else list(args)
    return GeneratedFunction(source, name, backend, [a.params[0] for a in arg_list])


INSTALL = {"torch": 'pip install torch==2.13.0 (or pip install -e ".[torch]")',
           "jax": 'pip install jax jaxlib (or pip install -e ".[jax]")'}


def _require(backend: str) -> None:
    """The optional backend a compiled function runs on must be importable."""
    if backend not in INSTALL:
        return
    try:
        importlib.import_module(backend)
    except ImportError:
        raise ToolError(f"lambdify(backend={backend!r}) runs the code with {backend}, which is "
                        f"not installed: {INSTALL[backend]}; codegen(..., backend={backend!r}) "
                        "gives the source without it") from None
