"""The paths the intercept library and users hit most import neither globus-sdk nor rich."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

from orbit_globus.streams.conf import TunnelConf

PROBE = """
import sys
from orbit_globus.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("globus_sdk", "rich", "requests", "jmespath") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


def heavy_modules(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.rsplit("HEAVY=", 1)[1].strip()


def test_help_is_light():
    assert heavy_modules("--help") == ""
    assert heavy_modules("environment", "--help") == ""


def test_contact_lookup_with_a_fresh_conf_is_light(tmp_path):
    tunnel = str(uuid.uuid4())
    conf = TunnelConf.new(tunnel, tmp_path)
    conf.set(
        role="initiator",
        connector_contact_string="127.0.0.1:4000",
        update_time=int(time.time()),
        connector_contact_string_ttl=3600,
    )
    conf.save()
    args = ("--base-dir", str(tmp_path), "environment", "contact-lookup")
    assert heavy_modules(*args, tunnel) == ""
    assert heavy_modules(*args, "--skip-update", tunnel) == ""
    assert heavy_modules("--base-dir", str(tmp_path), "environment", "show", tunnel) == ""
