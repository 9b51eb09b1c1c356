"""The control API ($ORBIT_SIM_URL), kept apart from the faked Globus APIs, and its client."""

from orbit_sim.control.client import SimControl, SimControlError

__all__ = ["SimControl", "SimControlError"]
