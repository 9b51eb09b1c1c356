"""Application-side delivery of a session's notifications: a callback or an iterator.

One background thread long-polls the session's event log (``after`` = last sequence
number seen), so nothing is lost between polls and order is kept. Events go to every
registered callback and to a queue that ``iterate()`` drains.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .errors import CLIENT_CLOSED, SESSION_NOT_FOUND, UNAUTHENTICATED_CLIENT, PluginError

log = logging.getLogger(__name__)

# Errors after which the stream cannot recover (the session or the client is gone).
FATAL_CODES = frozenset({SESSION_NOT_FOUND, UNAUTHENTICATED_CLIENT, CLIENT_CLOSED})


class Notification(NamedTuple):
    seq: int
    topic: str
    data: dict[str, Any]


Callback = Callable[[str, dict[str, Any]], None]
FetchEvents = Callable[[int, float], dict[str, Any]]


class EventPump:
    def __init__(self, fetch: FetchEvents, long_poll: float = 10.0) -> None:
        self._fetch = fetch
        self._long_poll = long_poll
        self._callbacks: list[Callback] = []
        self._queue: queue.Queue[Notification | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.cursor = 0
        self.finished = threading.Event()

    def add_callback(self, callback: Callback) -> None:
        with self._lock:
            self._callbacks.append(callback)
        self.start()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="orbit-globus-events", daemon=True
                )
                self._thread.start()

    def stop(self, join_timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(join_timeout)

    def iterate(self, timeout: float | None = None) -> Iterator[Notification]:
        """Yield notifications; stop after ``timeout`` s without one, or when the stream ends."""
        self.start()
        while True:
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                return
            if item is None:
                self._queue.put(None)  # let other iterators see the end too
                return
            yield item

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    reply = self._fetch(self.cursor, self._long_poll)
                except PluginError as err:
                    if err.code in FATAL_CODES:
                        return
                    log.warning("notification poll failed: %s", err)
                    self._stop.wait(1.0)
                    continue
                for event in reply.get("events", []):
                    self._deliver(Notification(event["seq"], event["topic"], event["data"]))
                if reply.get("closed"):
                    return
        finally:
            self.finished.set()
            self._queue.put(None)

    def _deliver(self, note: Notification) -> None:
        if note.seq <= self.cursor:
            return
        self.cursor = note.seq
        self._queue.put(note)
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(note.topic, note.data)
            except Exception:  # a broken callback must not end the stream
                log.exception("notification callback failed")
