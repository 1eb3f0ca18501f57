"""The operators. Importing this package declares every op in the registry.

The families load in this fixed order, and each imports only the ones before it; a rule or
derivative that needs a later family's constructor reads it from `symgrad.op.later` at call
time. So there is no import cycle among them.
"""

from . import core, shape, axes, arith, elementwise, reduce, einsum, linalg, kron, api  # noqa: F401, I001
