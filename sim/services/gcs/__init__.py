"""Simulated GCS Manager API (one per simulated endpoint): LAN secrets."""
