"""Is a program statically linked? (The intercept library cannot see into such programs.)"""

from __future__ import annotations

import struct
from pathlib import Path

PT_INTERP = 3
ELF_MAGIC = b"\x7fELF"


def is_static_elf(path: str | Path) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP).

    Scripts, missing files and anything unreadable count as not static: the warning this
    feeds must never stop a launch.
    """
    try:
        with open(path, "rb") as handle:
            ident = handle.read(64)
            if len(ident) < 64 or ident[:4] != ELF_MAGIC or ident[4] not in (1, 2):
                return False
            wide = ident[4] == 2
            order = "<" if ident[5] == 1 else ">"
            if wide:
                (phoff,) = struct.unpack_from(order + "Q", ident, 32)
                phentsize, phnum = struct.unpack_from(order + "HH", ident, 54)
            else:
                (phoff,) = struct.unpack_from(order + "I", ident, 28)
                phentsize, phnum = struct.unpack_from(order + "HH", ident, 42)
            handle.seek(phoff)
            table = handle.read(phentsize * phnum)
    except (OSError, struct.error):
        return False
    if len(table) < phentsize * phnum or phentsize < 4:
        return False
    types = (struct.unpack_from(order + "I", table, i * phentsize)[0] for i in range(phnum))
    return PT_INTERP not in types
