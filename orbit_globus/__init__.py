"""orbit-globus: Globus Streams toolchain, transfer plugin and simulator."""

__version__ = "0.1.0"

# The transfer plugin's public names, imported on first use so `import orbit_globus`
# (and the CLI's start-up) stays cheap; they need the [orbit] extra (radical.orbit).
_LAZY = {
    "GlobusClient": "orbit_globus.transfer.client",
    "GlobusSession": "orbit_globus.transfer.session",
    "PluginGlobus": "orbit_globus.transfer.plugin",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orbit_globus' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["GlobusClient", "GlobusSession", "PluginGlobus", "__version__"]
