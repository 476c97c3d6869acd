"""Where tasks run: in this process, on a local Dask ``LocalCluster`` or on an existing Dask
cluster. ``dask.distributed`` is the one engine of every command."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal

from start_sim.core.errors import RunError

Progress = Callable[[int, int], None]
"""``progress(done, total)``: replications finished (resumed ones included) and planned."""



class Executor:
    """Where tasks run: ``serial`` (this process), or ``dask`` (a ``LocalCluster`` of
    ``workers`` processes, or the cluster at ``scheduler``). ``auto`` is serial for one
    worker (or one task) and no scheduler, Dask otherwise. The cluster starts at the first
    :meth:`stream` that has work and serves every later one; use as a context manager."""

    def __init__(self, workers: int = 1, scheduler: str | None = None, kind: Literal["auto", "serial", "dask"] = "auto"):
        if kind not in ("auto", "serial", "dask"):
            raise ValueError(f"executor {kind!r} is not one of auto, serial, dask")
        if kind == "serial" and scheduler:
            raise ValueError("a serial executor cannot use a scheduler")
        self.workers = max(1, int(workers))
        self.scheduler = scheduler
        self.kind = kind
        self.client = None
        self.cluster = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def uses_dask(self, tasks: int) -> bool:
        if self.kind != "auto":
            return self.kind == "dask"
        return self.scheduler is not None or min(self.workers, tasks) > 1

    @property
    def size(self) -> int:
        """Workers available (1 when serial)."""
        if self.client is None:
            return 1
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def _start(self, tasks: int) -> None:
        from dask.distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise RunError(f"--scheduler {self.scheduler}: cannot connect to a Dask scheduler there "
                               f"({type(exc).__name__}: {exc}); check the address (e.g. tcp://host:8786) and "
                               f"that the scheduler is running, or leave --scheduler out to use this machine") from None
            return
        n = self.workers if self.kind == "dask" else min(self.workers, tasks)
        self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                    silence_logs=logging.ERROR)
        self.client = Client(self.cluster)

    def stream(self, fn: Callable, items: Iterable[tuple[str, tuple]], on_result: Callable[[str, Any], None],
               retries: int = 3) -> None:
        """Run ``fn(*args)`` for each ``(key, args)``; call ``on_result(key, result)`` as each finishes."""
        items = list(items)
        if not items:
            return
        if self.client is None and self.uses_dask(len(items)):
            self._start(len(items))
        if self.client is None:
            for key, args in items:
                on_result(key, fn(*args))
            return
        from dask.distributed import as_completed

        futures = {self.client.submit(fn, *args, key=key, retries=retries, pure=False): key for key, args in items}
        for fut in as_completed(futures):
            result = fut.result()
            key = futures.pop(fut)
            fut.release()
            on_result(key, result)

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing must not hide the run's own outcome
                    pass


