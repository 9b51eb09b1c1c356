"""Simulated Globus Transfer API (/v0.10 and /v2)."""
