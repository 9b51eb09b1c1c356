"""Which collection ``"local"`` means on this endpoint host (SPEC 6).

Order: the ``RADICAL_ORBIT_GLOBUS_COLLECTION`` environment variable, then Globus Connect
Personal's own record of its endpoint id, then ``~/.radical/orbit/globus.json``
``{"local_collection": ...}``; otherwise ``None``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import globus_sdk

ENV_VAR = "RADICAL_ORBIT_GLOBUS_COLLECTION"
LOCAL_ALIAS = "local"

log = logging.getLogger(__name__)


def config_file(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".radical" / "orbit" / "globus.json"


def from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    return value or None


def from_globus_connect_personal(gcp_config_dir: str | None = None) -> str | None:
    try:
        return globus_sdk.LocalGlobusConnectPersonal(config_dir=gcp_config_dir).endpoint_id
    except (OSError, globus_sdk.GlobusSDKUsageError):
        return None


def from_config_file(path: Path) -> str | None:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.warning("ignoring unreadable %s: %s", path, err)
        return None
    value = document.get("local_collection") if isinstance(document, dict) else None
    return str(value).strip() or None if value else None


def resolve_local_collection(
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    gcp_config_dir: str | None = None,
) -> str | None:
    """The endpoint's default local collection, or None when nothing names one."""
    if gcp_config_dir is None and home is not None:
        gcp_config_dir = str(home / ".globusonline")
    return (
        from_environment(environ)
        or from_globus_connect_personal(gcp_config_dir)
        or from_config_file(config_file(home))
    )
