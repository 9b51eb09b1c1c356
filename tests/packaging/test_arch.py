"""Every artifact for an architecture holds ELF files of that architecture only (readelf),
including the extension modules inside the dependency wheels a tarball bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
from artifacts import LIBRARY_NAME, Arch
from build_all import Artifacts
from elfcheck import foreign_elf


@pytest.mark.parametrize("kind", ["wheels", "tarballs", "debs"])
def test_artifact_holds_elf_of_its_own_architecture_only(
    artifacts: Artifacts, arch: Arch, kind: str
) -> None:
    artifact = Path(getattr(artifacts, kind)[arch.name])
    machines, foreign = foreign_elf(artifact, arch)
    libraries = [path for path in machines if path.endswith(LIBRARY_NAME)]
    assert libraries, machines  # the tarball has it twice: lib/ and inside the wheel
    assert {machines[path] for path in libraries} == {arch.elf_machine}
    assert foreign == {}
