"""The streams toolchain's local side: tunnel conf files, contact strings and `launch()`."""

from .conf import TunnelConf, conf_dir, conf_path
from .errors import StreamsError
from .launcher import launch, launch_env

__all__ = ["StreamsError", "TunnelConf", "conf_dir", "conf_path", "launch", "launch_env"]
