"""A pool of kernel pipes for zero-copy relaying (socket -> pipe -> socket with splice).

A pump borrows a pipe only while bytes sit in it, so a thousand idle connections hold no
pipes at all; idle pipes are kept for reuse up to a small number.
"""

from __future__ import annotations

import fcntl
import os

PIPE_SIZE = 1 << 20  # Linux's unprivileged maximum (fs.pipe-max-size)
KEEP_IDLE = 16


class Pipe:
    __slots__ = ("read_fd", "write_fd", "size")

    def __init__(self, size: int) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            self.size = fcntl.fcntl(self.write_fd, fcntl.F_SETPIPE_SZ, size)
        except OSError:  # over the per-user pipe budget: keep the default size
            self.size = fcntl.fcntl(self.write_fd, fcntl.F_GETPIPE_SZ)

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class PipePool:
    def __init__(self, size: int = PIPE_SIZE, keep: int = KEEP_IDLE) -> None:
        self._size = size
        self._keep = keep
        self._idle: list[Pipe] = []

    def get(self) -> Pipe:
        return self._idle.pop() if self._idle else Pipe(self._size)

    def put(self, pipe: Pipe) -> None:
        """Return an empty pipe."""
        if len(self._idle) < self._keep:
            self._idle.append(pipe)
        else:
            pipe.close()

    def discard(self, pipe: Pipe) -> None:
        """A pipe that may still hold bytes is never reused."""
        pipe.close()

    def close(self) -> None:
        for pipe in self._idle:
            pipe.close()
        self._idle.clear()
