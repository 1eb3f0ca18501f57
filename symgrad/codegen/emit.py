"""What an op's code form sees: handles on its arguments (Arg), the backend as an emitter
(Emitter), and the Code it returns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..node import Node
from .backends import ADD, ATOM, CMP, FRAC, MATMUL, MUL, POW, UNARY, Backend

if TYPE_CHECKING:
    from .generator import Generator

# Arg.at's placeholder: \x01key:precedence:allowed precedences\x02
PLACEHOLDER = re.compile("\x01(\\d+):(\\d+):([\\d,]*)\x02")

# ---- what code forms see ---------------------------------------------------------------------
@dataclass
class Code:
    """A code form's result: a Python expression and how to schedule it."""

    text: str
    prec: int = ATOM
    hint: str | None = None  # a name for its line: "{0}{1}" formats the arguments' names
    view: bool = False  # cheap (a view of its argument): may be repeated instead of named
    line: bool = False  # always give it a line (user-named intermediates)
    literal: bool = False  # a number: written where used (torch wraps it where a tensor is due)


class Arg:
    """A handle on a value in generated code; prints as a placeholder until rendering."""

    __slots__ = ("_gen", "key", "node")

    def __init__(self, gen: Generator, key: int, node: Node | None) -> None:
        self._gen, self.key, self.node = gen, key, node

    def at(self, prec: int, ok: tuple[int, ...] = ()) -> str:
        """The value as an operand needing precedence `prec` (parenthesized below it)."""
        return f"\x01{self.key}:{prec}:{','.join(map(str, ok))}\x02"

    def __str__(self) -> str:  # a function argument: never parenthesized
        return self.at(0)

    __format__ = lambda self, spec: str(self)  # noqa: E731 -- f"{arg}" is str(arg)

    @property
    def args(self) -> list[Arg]:
        """Handles on this node's own arguments (for peepholes that look through it)."""
        return [self._gen.handle(a) for a in self.node.args]

    @property
    def shared(self) -> bool:
        """Does anything else use this value (another consumer, or an output)?"""
        return self._gen.parents[self.node] > 1

    @property
    def shape(self) -> tuple:
        return self.node.shape if self.node is not None else ()

    @property
    def ndim(self) -> int:
        return len(self.shape)


class Emitter:
    """The backend as the ops' code forms see it: spellings, sizes, temporaries."""

    CMP, ADD, FRAC, MATMUL, MUL, UNARY, POW, ATOM = CMP, ADD, FRAC, MATMUL, MUL, UNARY, POW, ATOM

    def __init__(self, backend: Backend, gen: Generator) -> None:
        self.backend, self._gen = backend, gen
        self.name, self.m = backend.name, backend.module

    def fn(self, name: str) -> str:
        """A function of the array module: np.exp, torch.amax, jnp.trace."""
        return f"{self.m}.{self.backend.renames.get(name, name)}"

    def linalg(self, name: str) -> str:
        return f"{self.m}.linalg.{name}"

    def native(self, key: str, *args: Arg) -> str | Code | None:
        """The backend's own spelling of an operation, if it has one."""
        f = self.backend.natives.get(key)
        return f(self, *args) if f else None

    def axes(self, axes: Sequence[int]) -> str:
        return str(axes[0]) if len(axes) == 1 else "(" + ", ".join(map(str, axes)) + ")"

    def reduce(self, x: Arg | str, method: str, axes: Sequence[int], keepdims: bool,
               ndim: int) -> str:
        """x.sum(axis=1), x.amax(dim=0, keepdim=True): a reduction as a method call."""
        base = x.at(ATOM) if isinstance(x, Arg) else x
        meth = self.backend.renames.get(method, method)
        if len(axes) == ndim and not keepdims:
            return f"{base}.{meth}()"
        kw = f"{self.backend.axis_kw}={self.axes(axes)}"
        if keepdims:
            kw += f", {self.backend.keep_kw}=True"
        return f"{base}.{meth}({kw})"

    def squeeze(self, x: Arg, axes: Sequence[int]) -> str:
        return f"{x.at(ATOM)}.squeeze({self.backend.axis_kw}={self.axes(axes)})"

    def size(self, s) -> str:
        return self._gen.size_text(s)[0]

    def shape(self, shape: Sequence) -> str:
        parts = [self.size(s) for s in shape]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def dtype(self) -> str:
        """The name of the dtype of the arguments (bound at the top when used)."""
        return self._gen.use_dtype()

    def create(self, kind: str, shape: Sequence) -> str:
        """np.zeros((n, m), dtype=dtype), np.eye(n, dtype=dtype): only where needed."""
        size = self.size(shape[0]) if kind == "eye" else self.shape(shape)
        return f"{self.fn(kind)}({size}, dtype={self.dtype()})"

    def code(self, text: str, prec: int = ATOM, hint: str | None = None, view: bool = False,
             line: bool = False) -> Code:
        return Code(text, prec, hint, view, line)

    def number(self, value) -> Code:
        """A number (possibly size-dependent, as 2/(N*c)) as a Python literal."""
        text, prec = self._gen.size_text(value)
        return Code(text, prec, literal=True)

    def let(self, text: str, hint: str | tuple[str, ...]) -> Arg | tuple[Arg, ...]:
        """A temporary line before the current op's (a max to shift by, a slogdet pair)."""
        return self._gen.let(text, hint)

    def const(self, text: str, prec: int = ATOM) -> Arg:
        """A number written into the code (an implicit broadcast of ones becomes 1)."""
        return self._gen.const(text, prec)

    def arg(self, node: Node) -> Arg:
        """A handle on another node's value, generated by its own code form (Bᵀ of a view
        Bᵀ is B again)."""
        return self._gen.handle(node)
