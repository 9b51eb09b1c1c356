"""The streams toolchain's local side: tunnel conf files, contact strings and `launch()`.

`launch` and `launch_env` are imported on first use: the launcher's conf reader and the
CLI's contact-lookup import this package and should not pay for subprocess.
"""

from .conf import TunnelConf, conf_dir, conf_path
from .errors import StreamsError

_LAZY = {"launch": "launcher", "launch_env": "launcher"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["StreamsError", "TunnelConf", "conf_dir", "conf_path", "launch", "launch_env"]
