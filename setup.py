"""Build hook: compile the intercept library with zig while building the package.

Metadata lives in pyproject.toml; this file only adds the native build step and maps the
simulator's folder `sim/` to the importable package `orbit_sim`.
"""

import runpy
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class build_py_with_intercept(build_py):
    """Also build libglobus_streams_client.so.0 for the host architecture."""

    def run(self) -> None:
        super().run()
        build_script = ROOT / "libintercept" / "build.py"
        if not build_script.exists():
            return
        base = ROOT if self.editable_mode else Path(self.build_lib)
        runpy.run_path(str(build_script))["build"]("host", base / "orbit_globus" / "_lib")


setup(
    packages=find_packages(include=["orbit_globus", "orbit_globus.*"])
    + ["orbit_sim"]
    + [f"orbit_sim.{p}" for p in find_packages("sim")],
    package_dir={"orbit_sim": "sim"},
    cmdclass={"build_py": build_py_with_intercept},
)
