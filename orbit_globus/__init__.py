"""orbit-globus: Globus Streams toolchain, transfer plugin and simulator."""

__version__ = "0.1.0"

