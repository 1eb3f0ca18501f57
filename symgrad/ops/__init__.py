"""The operators. Importing this package declares every op in the registry."""

from . import api, arith, core, elementwise, kron, linalg, reduce, shape  # noqa: F401
