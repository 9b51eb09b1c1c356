"""Build hook: compile the intercept library with zig while building the package.

Metadata lives in pyproject.toml; this file adds the native build step, tags the wheel for
the architecture whose library it carries, and maps the simulator's folder `sim/` to the
importable package `orbit_sim`.

The wheel is built for this machine's architecture unless `ORBIT_GLOBUS_TARGET_ARCH`
names another (`x86_64` or `aarch64`; zig cross-compiles), e.g.

    ORBIT_GLOBUS_TARGET_ARCH=aarch64 python -m build --wheel

gives `orbit_globus-<version>-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl`
holding the aarch64 library only. Editable installs always build for this machine.
"""

import os
import runpy
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

from setuptools import Distribution, find_packages, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUILD_SCRIPT = ROOT / "libintercept" / "build.py"
SIM_RELAY_BUILD = ROOT / "sim" / "streams" / "native" / "build.py"
TARGET_ARCH_VAR = "ORBIT_GLOBUS_TARGET_ARCH"
ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
# The library is linked against glibc 2.17 (libintercept/build.py), hence manylinux_2_17;
# the manylinux2014 alias keeps older pip versions able to install the wheel.
PLATFORM_TAG = "manylinux_2_17_{arch}.manylinux2014_{arch}"


@cache
def intercept_build() -> dict:
    """libintercept/build.py's namespace (`build`, `host_arch`, `ARCHES`)."""
    if not BUILD_SCRIPT.exists():
        raise RuntimeError(f"{BUILD_SCRIPT} is missing: this source tree cannot build the library")
    return runpy.run_path(str(BUILD_SCRIPT))


def sim_relay_build() -> Callable[..., Path]:
    """sim/streams/native/build.py's `build`: the simulator's native TLS relay loop."""
    return runpy.run_path(str(SIM_RELAY_BUILD))["build"]


def target_arch() -> str:
    """The architecture the wheel is built for: $ORBIT_GLOBUS_TARGET_ARCH, else this machine."""
    requested = os.environ.get(TARGET_ARCH_VAR, "").strip().lower()
    if not requested:
        return intercept_build()["host_arch"]()
    arch = ARCH_ALIASES.get(requested, requested)
    supported = intercept_build()["ARCHES"]
    if arch not in supported:
        expected = ", ".join(supported)
        raise RuntimeError(f"{TARGET_ARCH_VAR}={requested!r}: expected one of {expected}")
    return arch


class build_py_with_intercept(build_py):
    """Also build libglobus_streams_client.so.0 and the simulator's native relay loop for
    the target architecture."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            if target_arch() != intercept_build()["host_arch"]():
                raise RuntimeError(
                    f"an editable install is for this machine: unset {TARGET_ARCH_VAR}"
                )
            intercept_build()["build"]("host", ROOT / "orbit_globus" / "_lib")
            sim_relay_build()()
            return
        # package_data copied whatever the source tree holds in _lib/ (libraries built for
        # tests, other architectures): the wheel gets only the one built here.
        lib_dir = Path(self.build_lib) / "orbit_globus" / "_lib"
        shutil.rmtree(lib_dir, ignore_errors=True)
        intercept_build()["build"](target_arch(), lib_dir)
        relay_dir = Path(self.build_lib) / "orbit_sim" / "streams" / "native" / "_lib"
        shutil.rmtree(relay_dir, ignore_errors=True)
        sim_relay_build()(relay_dir, arch=target_arch())


class DistributionWithNativeCode(Distribution):
    """Not pure Python: the wheel installs to platlib and is tagged for a platform."""

    def has_ext_modules(self) -> bool:
        return True


class bdist_wheel_for_target(bdist_wheel):
    """A py3-none wheel tagged for the one architecture whose native library it carries
    (no Python C-extension: the library is reached through ctypes, so any CPython 3 fits)."""

    def get_tag(self) -> tuple[str, str, str]:
        return "py3", "none", PLATFORM_TAG.format(arch=target_arch())


setup(
    packages=find_packages(include=["orbit_globus", "orbit_globus.*"])
    + ["orbit_sim"]
    + [f"orbit_sim.{p}" for p in find_packages("sim")],
    package_dir={"orbit_sim": "sim"},
    distclass=DistributionWithNativeCode,
    cmdclass={"build_py": build_py_with_intercept, "bdist_wheel": bdist_wheel_for_target},
)
