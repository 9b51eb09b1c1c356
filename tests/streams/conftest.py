"""Fixtures of the launcher tests (defined in launcher_env.py)."""

from .launcher_env import conf_dir, fake_library, package

__all__ = ["conf_dir", "fake_library", "package"]
