"""What an ELF file says about how it reaches the network: interpreter, sections, linked libs.

The intercept library only sees programs that call libc through the dynamic linker, so the
facts that matter are whether there is a program interpreter (PT_INTERP), which sections
there are (Go writes `.go.buildinfo`) and which names the dynamic string table holds
(`liburing.so.2`). Reading never raises: anything unreadable is simply "not ELF".
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

PT_INTERP = 3
ELF_MAGIC = b"\x7fELF"
# Header tables and string tables beyond these are not from a real program: refuse them
# rather than allocate what a damaged header asks for.
MAX_TABLE = 4 * 1024 * 1024
MAX_STRINGS = 16 * 1024 * 1024


class ElfFacts:
    # A plain class, not a dataclass: the launcher's conf reader imports this module and
    # dataclasses costs it a tenth of its start-up.
    __slots__ = ("dynamic_strings", "has_interpreter", "sections")

    def __init__(
        self,
        has_interpreter: bool,
        sections: Mapping[str, tuple[int, int]] | None = None,
        dynamic_strings: bytes = b"",
    ) -> None:
        self.has_interpreter = has_interpreter
        # Section name -> (file offset, size); empty when the section table is missing.
        self.sections = dict(sections or {})
        # The dynamic string table (needed libraries, imported symbols), empty when absent.
        self.dynamic_strings = dynamic_strings

    @property
    def is_static(self) -> bool:
        return not self.has_interpreter


class _Layout:
    __slots__ = ("order", "wide")

    def __init__(self, order: str, wide: bool) -> None:
        self.order, self.wide = order, wide

    def unpack(self, fmt: str, data: bytes, offset: int = 0) -> tuple[int, ...]:
        return struct.unpack_from(self.order + fmt, data, offset)


def read_elf(path: str | Path) -> ElfFacts | None:
    """The facts of an ELF executable or library; None for anything else."""
    try:
        with open(path, "rb") as handle:
            ident = handle.read(64)
            if len(ident) < 64 or ident[:4] != ELF_MAGIC or ident[4] not in (1, 2):
                return None
            layout = _Layout("<" if ident[5] == 1 else ">", ident[4] == 2)
            has_interpreter = _has_interpreter(handle, layout, ident)
            try:
                sections = _sections(handle, layout, ident)
            except (struct.error, ValueError):  # a damaged section table hides only extras
                sections = {}
            return ElfFacts(has_interpreter=has_interpreter, **sections)  # type: ignore[arg-type]
    except (OSError, struct.error, ValueError):
        return None


def _has_interpreter(handle, layout: _Layout, ident: bytes) -> bool:  # type: ignore[no-untyped-def]
    if layout.wide:
        (phoff,) = layout.unpack("Q", ident, 32)
        phentsize, phnum = layout.unpack("HH", ident, 54)
    else:
        (phoff,) = layout.unpack("I", ident, 28)
        phentsize, phnum = layout.unpack("HH", ident, 42)
    if phentsize < 4 or phentsize * phnum > MAX_TABLE:
        raise ValueError("bad program header table")
    handle.seek(phoff)
    table = handle.read(phentsize * phnum)
    if len(table) < phentsize * phnum:
        raise ValueError("truncated program headers")
    return any(layout.unpack("I", table, i * phentsize)[0] == PT_INTERP for i in range(phnum))


def _sections(handle, layout: _Layout, ident: bytes) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Section names and the `.dynstr` bytes; empty when the section table is missing."""
    if layout.wide:
        (shoff,) = layout.unpack("Q", ident, 40)
        shentsize, shnum, shstrndx = layout.unpack("HHH", ident, 58)
        header = "IIQQQQ"  # name, type, flags, addr, offset, size
    else:
        (shoff,) = layout.unpack("I", ident, 32)
        shentsize, shnum, shstrndx = layout.unpack("HHH", ident, 46)
        header = "IIIIII"
    empty: dict[str, object] = {}
    if not shoff or not shnum or shentsize * shnum > MAX_TABLE or shstrndx >= shnum:
        return empty
    handle.seek(shoff)
    table = handle.read(shentsize * shnum)
    if len(table) < shentsize * shnum:
        return empty
    entries = [layout.unpack(header, table, i * shentsize) for i in range(shnum)]
    names = _read(handle, entries[shstrndx][4], entries[shstrndx][5])
    by_name = {_c_string(names, entry[0]): entry for entry in entries}
    dynstr = by_name.get(".dynstr")
    return {
        "sections": {name: (e[4], e[5]) for name, e in by_name.items() if name},
        "dynamic_strings": _read(handle, dynstr[4], dynstr[5]) if dynstr else b"",
    }


def _read(handle, offset: int, size: int) -> bytes:  # type: ignore[no-untyped-def]
    if size > MAX_STRINGS:
        raise ValueError("string table too large")
    handle.seek(offset)
    return handle.read(size)


def _c_string(table: bytes, offset: int) -> str:
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("ascii", "replace")


def read_section(path: str | Path, facts: ElfFacts, name: str, limit: int) -> bytes:
    """Up to `limit` bytes of section `name` (empty when absent or unreadable)."""
    offset, size = facts.sections.get(name, (0, 0))
    if not size:
        return b""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read(min(size, limit))
    except OSError:
        return b""


def is_static_elf(path: str | Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP).

    Scripts, missing files and anything unreadable count as not static: the warning this
    feeds must never stop a launch.
    """
    facts = read_elf(path)
    return facts is not None and facts.is_static
