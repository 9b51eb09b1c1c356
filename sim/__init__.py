"""orbit-sim: a stateful fake of Globus Auth, Transfer and GCS, with stream access points."""

