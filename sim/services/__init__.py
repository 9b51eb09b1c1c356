"""The simulated Globus services: auth, transfer and gcs (models/responses/urls each)."""
