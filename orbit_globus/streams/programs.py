"""Will the intercept library see a program's connections? (SPEC 3.4, last paragraph.)

The library works by LD_PRELOAD, so it sees only calls that go through the dynamic linker
into libc. Statically linked programs never load it; Go programs make their own system
calls; io_uring runtimes submit connect/accept to the kernel without calling libc. These
checks read the file only (nothing is run) and say what they find in one sentence each.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .elf import read_elf, read_section

# Sections only the Go toolchain writes (kept by `strip`).
GO_SECTIONS = frozenset({".go.buildinfo", ".note.go.buildid", ".gopclntab"})
# Runtimes whose sockets go through io_uring: the C library (a needed library), and Rust
# crates that name themselves in their panic locations (in .rodata, even when stripped).
IO_URING_LIBRARY = b"liburing.so"
IO_URING_CRATES = (b"tokio-uring", b"glommio", b"monoio")
RODATA_SCAN_LIMIT = 64 * 1024 * 1024
MAX_SCRIPT_DEPTH = 4


class ProgramFinding:
    __slots__ = ("blocking", "program", "reason")  # not a dataclass: see elf.ElfFacts

    def __init__(self, program: str, blocking: bool, reason: str) -> None:
        self.program = program
        # True: no connection of this program can be intercepted; False: some may be missed.
        self.blocking = blocking
        self.reason = reason

    def __repr__(self) -> str:
        return f"ProgramFinding({self.program!r}, {self.blocking!r}, {self.reason!r})"

    def __str__(self) -> str:
        return f"{self.program} {self.reason}"


def resolve_program(command: str, path: str | None = None) -> str | None:
    """`command` as the shell would find it (a name on PATH, or a path); None when not found."""
    if os.sep in command:
        return command if os.path.isfile(command) else None
    return shutil.which(command, path=path)


def script_interpreter(path: str, path_env: str | None = None) -> str | None:
    """The program a `#!` script runs (through `env NAME` too), or None for other files."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env":
        names = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        return resolve_program(names[0], path_env) if names else None
    return words[0]


def inspect_program(command: str, path_env: str | None = None) -> list[ProgramFinding]:
    """What keeps the library from seeing `command`'s connections (empty: nothing found).

    A script is judged by its interpreter, as that is the process that connects.
    """
    program = resolve_program(command, path_env)
    for _ in range(MAX_SCRIPT_DEPTH):
        if program is None:
            return []
        interpreter = script_interpreter(program, path_env)
        if interpreter is None:
            break
        program = interpreter
    assert program is not None
    return _inspect_binary(program)


def _inspect_binary(program: str) -> list[ProgramFinding]:
    facts = read_elf(program)
    if facts is None:
        return []
    if GO_SECTIONS & facts.sections.keys():
        return [
            ProgramFinding(
                program,
                True,
                "is a Go program: Go's net package makes its own system calls, so its "
                "connections cannot be intercepted",
            )
        ]
    if facts.is_static:
        return [
            ProgramFinding(
                program,
                True,
                "is statically linked: the intercept library cannot be preloaded into it, so "
                "its connections cannot be intercepted",
            )
        ]
    findings = []
    if IO_URING_LIBRARY in facts.dynamic_strings:
        findings.append(
            ProgramFinding(
                program,
                False,
                "links liburing: connections it opens through io_uring bypass the intercept "
                "library",
            )
        )
    rodata = read_section(Path(program), facts, ".rodata", RODATA_SCAN_LIMIT)
    crates = [c.decode() for c in IO_URING_CRATES if c in rodata]
    if crates:
        findings.append(
            ProgramFinding(
                program,
                False,
                f"uses an io_uring runtime ({', '.join(crates)}): connections it opens "
                "through io_uring bypass the intercept library",
            )
        )
    return findings
