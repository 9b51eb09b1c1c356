"""One row per benchmark figure, shared by every benchmark script and `run_all.py`.

A script prints its own detailed table as it likes, and also hands its headline figures to
`record()`. When `run_all.py` runs the script it sets ORBIT_BENCH_JSON, and the figures are
appended there as JSON lines so that one table can show every area side by side.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENV_VAR = "ORBIT_BENCH_JSON"


@dataclass(frozen=True)
class Figure:
    area: str  # which part: intercept, tunnel, sim-api, cli, plugin, packaging ...
    measure: str  # what was measured, with its reference when there is one
    value: str  # the figure as printed, unit included ("1.01x", "2.3 ms", "640 calls/s")
    target: str = ""  # the goal, as printed ("<= 1.02x")
    met: bool | None = None  # None when the figure has no goal


def record(*figures: Figure) -> None:
    """Append figures for `run_all.py`; a no-op when the script runs on its own."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        for figure in figures:
            out.write(json.dumps(asdict(figure)) + "\n")
