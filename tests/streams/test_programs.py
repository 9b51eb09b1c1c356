"""Which programs the intercept library cannot see into (orbit_globus.streams.programs)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orbit_globus.streams.elf import is_static_elf, read_elf
from orbit_globus.streams.programs import inspect_program

from . import binaries


def reasons(command: str, path: str | None = None) -> list[tuple[bool, str]]:
    return [(f.blocking, f.reason) for f in inspect_program(command, path)]


def test_dynamic_program_and_python_pass(tmp_path):
    assert reasons(str(binaries.dynamic_program(tmp_path))) == []
    assert reasons(sys.executable) == []


def test_static_program_blocks(tmp_path):
    program = binaries.static_program(tmp_path)
    assert is_static_elf(program)
    [(blocking, reason)] = reasons(str(program))
    assert blocking and "statically linked" in reason


def test_go_program_blocks_even_when_dynamic(tmp_path):
    program = binaries.go_marked_program(tmp_path)
    facts = read_elf(program)
    assert facts is not None and facts.has_interpreter and ".go.buildinfo" in facts.sections
    [(blocking, reason)] = reasons(str(program))
    assert blocking and "Go program" in reason


def test_liburing_and_io_uring_crates_warn(tmp_path):
    [(blocking, reason)] = reasons(str(binaries.liburing_program(tmp_path)))
    assert not blocking and "liburing" in reason
    [(blocking, reason)] = reasons(str(binaries.crate_marked_program(tmp_path / "crate")))
    assert not blocking and "tokio-uring" in reason


def test_a_script_is_judged_by_its_interpreter(tmp_path):
    static = binaries.static_program(tmp_path)
    direct = tmp_path / "direct.sh"
    direct.write_text(f"#!{static}\n")
    through_env = tmp_path / "through-env"
    through_env.write_text("#!/usr/bin/env -S static-prog --flag\n")
    for script in (direct, through_env):
        script.chmod(0o755)
        [(blocking, reason)] = reasons(str(script), path=str(tmp_path))
        assert blocking and "statically linked" in reason
    plain = tmp_path / "plain.sh"
    plain.write_text("#!/bin/sh\necho hi\n")
    assert reasons(str(plain)) == []


@pytest.mark.parametrize("content", [b"", b"\x7fELF", b"\x7fELF\x02\x01" + b"\xff" * 200])
def test_junk_is_not_elf_and_never_raises(tmp_path, content):
    path = tmp_path / "junk"
    path.write_bytes(content)  # the last one claims 65535 headers of 65535 bytes each
    assert read_elf(path) is None
    assert reasons(str(path)) == []


def test_missing_program_has_no_findings():
    assert reasons("no-such-program-anywhere") == []
    assert reasons(str(Path("/nonexistent/prog"))) == []
