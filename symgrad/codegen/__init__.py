"""Generated code: straight-line NumPy, PyTorch or JAX source from expression DAGs.

`codegen(exprs, args)` returns the source of one Python function; `lambdify` compiles it.
Each op writes its own code (`Op.code`, beside its other rules in symgrad/ops/); this module
only schedules the DAG and never branches on op names. A code form gets the node, handles
to its arguments and the backend emitter `B`, and returns a Python expression, or an
equivalent Node to generate instead: that is how an op states the peepholes an expert
applies (`G @ 1` is `G.sum(axis=1)`, `diag(v) A` is `v[:, None] * A`, `log softmax` is
`z - logsumexp(z)`).

Scheduling works in two passes. The plan pass calls every code form once, with argument
handles that print as placeholders; a form that looks through an argument (`inv(A) @ B`
becomes `solve(A, B)`) simply never prints it, so the argument is dead unless someone else
needs it. The render pass then counts the live references: a node used once is written inline
in its consumer, a node used more than once (or named by the user, or long) gets one line
and a name saying what it is, and cheap views (`W.T`, `v[:, None]`) are repeated freely.
"""

from .api import GeneratedFunction, codegen, lambdify
from .backends import BACKENDS, Backend
from .emit import Arg, Code, Emitter

__all__ = ["BACKENDS", "Arg", "Backend", "Code", "Emitter", "GeneratedFunction", "codegen",
           "lambdify"]
