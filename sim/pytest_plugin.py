"""pytest fixtures for suites that test against the simulator (SPEC 5.5)."""
