"""The gateway's one event loop, running in a background thread.

The services model calls the gateway from HTTP worker threads while holding the
simulator's lock, so nothing here blocks a caller waiting on the loop: work is handed
over with `call_soon_threadsafe`, and callers wait only when they are not the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio loop owned by one daemon thread."""

    def __init__(self, name: str = "orbit-sim-streams") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            # Let unfinished set-ups run their cleanup (closing their sockets) before closing;
            # a callback queued during shutdown may start one more, so look again.
            for _ in range(3):
                pending = asyncio.all_tasks(self.loop)
                if not pending:
                    break
                for task in pending:
                    task.cancel()
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the loop soon (now, when already on the loop)."""
        if self.in_loop:
            fn()
        else:
            self.loop.call_soon_threadsafe(fn)

    def run(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `fn` on the loop and return its result (directly when already on the loop)."""
        if self.in_loop:
            return fn()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def runner() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:  # handed back to the caller's thread
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(runner)
        return done.result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
