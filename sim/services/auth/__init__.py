"""Simulated Globus Auth: identities, clients, OAuth2 grants, introspection."""
