"""Worker processes that do the API's work, so that a runaway derivation can be stopped.

A thread cannot be stopped, a process can: each request borrows one worker, and a worker
that does not answer within the time limit is killed and replaced while the server goes on.
Workers fork from a forkserver that has imported symgrad, so a replacement starts fast and
inherits none of the server's threads. Address space is capped in each worker.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import resource
from multiprocessing.connection import Connection

from ..errors import SymgradError
from . import api

JOBS = {"derive": api.derive, "check": api.check, "pdf": api.pdf}
MEMORY_LIMIT = 3 << 30  # bytes of address space per worker


class Busy(SymgradError):
    """Every worker stayed busy for longer than the server waits for one."""


class Timeout(SymgradError):
    """A request ran past the time limit; its worker was stopped."""


class WorkerDied(SymgradError):
    """A worker process ended while working (killed, out of memory)."""


def _work(conn: Connection) -> None:
    """A worker's loop: (job, request) in, ("ok", result) or ("error", body, status) out."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):  # a lower hard limit is already set: keep it
        pass
    while True:
        try:
            job, req = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            conn.send(("ok", JOBS[job](req)))
        except api.RequestError as exc:
            conn.send(("error", api.error_body(exc), 400))
        except SymgradError as exc:
            conn.send(("error", api.error_body(exc), 422))
        except MemoryError:
            conn.send(("error", {"error": {"type": "MemoryError", "message":
                       "the request needed more memory than a worker may use"}}, 422))
        except RecursionError:
            conn.send(("error", {"error": {"type": "RecursionError", "message":
                       "the expression is nested too deeply"}}, 422))
        except Exception as exc:  # a symgrad bug: say so, keep the worker
            conn.send(("error", {"error": {"type": "InternalError", "message":
                       f"symgrad failed on this input ({type(exc).__name__}: {exc}); "
                       "please report it"}}, 500))


class _Worker:
    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_work, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def stop(self) -> None:
        self.conn.close()
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)


class WorkerPool:
    """`size` workers; `run(job, req)` waits at most `wait` s for a free one and `timeout` s
    for its answer."""

    def __init__(self, size: int = 2, timeout: float = 20.0, wait: float = 10.0) -> None:
        self.size, self.timeout, self.wait = size, timeout, wait
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(["symgrad", "symgrad.web.api"])
        self.idle: asyncio.Queue[_Worker] | None = None
        self.workers: list[_Worker] = []

    def start(self) -> None:
        self.idle = asyncio.Queue()
        for _ in range(self.size):
            self._add()

    def _add(self) -> None:
        w = _Worker(self.ctx)
        self.workers.append(w)
        self.idle.put_nowait(w)

    def _replace(self, w: _Worker) -> None:
        w.stop()
        self.workers.remove(w)
        self._add()

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        self.workers.clear()

    async def run(self, job: str, req: dict):
        """("ok", result) or ("error", body, status); raises Busy or Timeout."""
        try:
            w = await asyncio.wait_for(self.idle.get(), self.wait)
        except TimeoutError:
            raise Busy(f"all {self.size} workers are busy; try again in a moment") from None
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = w.conn.fileno()
        try:
            w.conn.send((job, req))
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await asyncio.wait_for(ready, self.timeout)
            finally:
                loop.remove_reader(fd)
            answer = w.conn.recv()
        except TimeoutError:
            self._replace(w)
            raise Timeout(f"the request took longer than {self.timeout:g} s and was stopped; "
                          "try a smaller expression or fewer options") from None
        except (EOFError, OSError):
            self._replace(w)
            raise WorkerDied("the worker stopped while working on this request (out of "
                             "memory?); it was replaced") from None
        except asyncio.CancelledError:  # the client left: its answer must not reach the next
            self._replace(w)
            raise
        self.idle.put_nowait(w)
        return answer
