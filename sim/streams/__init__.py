"""Stream access points: the three-leg tunnel data path and its network faults.

`StreamGateway` replaces the services model's port-only gateway; see ARCHITECTURE.md.
"""

from .gateway import StreamGateway
from .tls import WanTls

__all__ = ["StreamGateway", "WanTls"]
