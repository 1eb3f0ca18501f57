"""Shared fixtures: the registry's test cases, one `registry_case` parameter per (op, case)."""

from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from symgrad.node import Node
from symgrad.op import REGISTRY
from symgrad.ops.core import variable
from symgrad.testing import sample


@dataclass(frozen=True)
class RegistryCase:
    """One test case declared by an op: its root expression and its variables' domains."""

    id: str
    op: str
    y: Node | None
    xs: tuple[Node, ...]
    domains: tuple[str, ...]
    error: str | None = None  # building the case failed: the tests of this case fail with it

    def __post_init__(self):
        if self.error is None and self.y is not None and self.y.op is not REGISTRY[self.op]:
            object.__setattr__(self, "error", f"a case of {self.op} built a {self.y.op.name} "
                                              f"root: {self.y!r}")

    def check(self) -> None:
        if self.error is not None:
            pytest.fail(f"registry case {self.id}: {self.error}")

    def rng(self, salt: str = "") -> np.random.Generator:
        """A generator seeded by the case id: every run draws the same numbers."""
        return np.random.default_rng(zlib.crc32(f"{self.id}|{salt}".encode()))

    def env(self, rng: np.random.Generator) -> dict:
        """Values for the case's variables, each from its declared domain."""
        return {x: sample(x.shape, d, rng) for x, d in zip(self.xs, self.domains)}


def _fmt(shape) -> str:
    return "(" + ",".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


def registry_cases(field: str = "cases") -> list[RegistryCase]:
    """The cases every op declares in `field`: Op.cases, or Op.tensor_cases (three or more
    axes)."""
    out: list[RegistryCase] = []
    seen: dict[str, int] = {}
    for name, op in REGISTRY.items():
        if getattr(op, field) is None:
            continue
        try:
            cases = getattr(op, field)()
        except Exception as exc:  # noqa: BLE001 -- reported by the tests, not at collection
            out.append(RegistryCase(f"{name}-cases", name, None, (), (), f"cases(): {exc!r}"))
            continue
        for build, specs in cases:
            xs = tuple(variable(f"x{i}", *shape) for i, (shape, _) in enumerate(specs))
            base = "-".join([name] + [_fmt(s) for s, _ in specs])
            k = seen.get(base, 0)
            seen[base] = k + 1
            cid = base if k == 0 else f"{base}#{k}"  # same shapes, other params
            domains = tuple(d for _, d in specs)
            try:
                out.append(RegistryCase(cid, name, build(*xs), xs, domains))
            except Exception as exc:  # noqa: BLE001
                out.append(RegistryCase(cid, name, None, xs, domains, f"build: {exc!r}"))
    return out


CASES = registry_cases()
TENSOR_CASES = registry_cases("tensor_cases")
# The library's own ops, before any test registers a user-defined elementwise function.
LIBRARY_OPS = tuple(REGISTRY)


def pytest_generate_tests(metafunc):
    if "registry_case" in metafunc.fixturenames:
        metafunc.parametrize("registry_case", CASES, ids=[c.id for c in CASES])
    if "tensor_case" in metafunc.fixturenames:
        metafunc.parametrize("tensor_case", TENSOR_CASES, ids=[c.id for c in TENSOR_CASES])


@pytest.fixture(scope="session")
def all_cases() -> list[RegistryCase]:
    return CASES


@pytest.fixture(scope="session")
def library_ops() -> tuple[str, ...]:
    return LIBRARY_OPS


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """The script benchmarks/<name>.py as a module (imported, its main() not run)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
