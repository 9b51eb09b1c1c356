"""The reference page (sim/REFERENCE.md), generated from the code: every control route,
every fault kind with its keys, every route name a fault can select.

    python -m orbit_sim.reference            # rewrite the page
    python -m orbit_sim.reference --check    # exit 1 when the committed page is stale
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path

PAGE = Path(__file__).with_name("REFERENCE.md")


def _paragraph(text: str | None) -> str:
    return " ".join((inspect.cleandoc(text or "")).split("\n\n")[0].split())


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def _signature(signature: inspect.Signature) -> str:
    """`(name: type = default, ...) -> type` from string annotations, without quotes."""
    parts = []
    for param in signature.parameters.values():
        if param.kind is param.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        text = f"{param.name}: {param.annotation}"
        if param.default is not param.empty:
            text += f" = {param.default!r}"
        parts.append(text)
    return f"({', '.join(parts)}) -> {signature.return_annotation}"


def _control_section() -> list[str]:
    from orbit_sim.control.api import CONTROL_API

    lines = [
        "## Control API",
        "",
        "Under `$ORBIT_SIM_URL` (`http://HOST:PORT/control` of `orbit-sim serve`); no tokens.",
        "Each route calls the Simulator method of the same name with the path parameters and",
        "the JSON body's fields as arguments; `orbit_sim.SimControl` has the same methods.",
        "Unknown fields are refused (400) with the known ones listed.",
        "",
        "| route | method (`Simulator`, `SimControl`) | what it does |",
        "| --- | --- | --- |",
    ]
    for call in CONTROL_API:
        signature = _signature(call.signature)
        lines.append(
            f"| `{call.method} {call.path}` | `{call.name}{_cell(signature)}` "
            f"| {_cell(call.summary)} |"
        )
    return lines


def _default(field: dataclasses.Field[object]) -> str:
    if field.default is dataclasses.MISSING:
        return "(new)"
    return "" if field.default is None else f"`{field.default}`"


def _description(fault_class: type) -> str:
    own = fault_class.__dict__.get("__doc__") or ""
    if own.startswith(f"{fault_class.__name__}("):  # a dataclass's generated signature
        own = ""
    return _paragraph(own or sys.modules[fault_class.__module__].__doc__)


def _faults_section() -> list[str]:
    from orbit_sim.faults import FAULT_KINDS

    lines = [
        "## Fault kinds",
        "",
        "A spec is `kind:key=value,...`: `orbit-sim serve --fault SPEC`, `orbit-sim fault add",
        "SPEC`, `sim.add_fault(SPEC)`, `SimControl.add_fault(SPEC)` or `POST /faults` with",
        '`{"fault": SPEC}` (or `{"fault": {...}}`, a fault\'s JSON document as `GET /faults`',
        "shows it). Unknown kinds, keys and route names are refused",
        "with the valid ones listed. Network faults act on leg 1 (application -> initiator",
        "access point), 2 (the WAN leg between the access points) or 3 (listener access point",
        "-> listening application); upstream is from the initiating application towards the",
        "listening one.",
        "",
    ]
    for kind, fault_class in FAULT_KINDS.items():
        lines += [f"### `{kind}`", "", _description(fault_class), ""]
        lines += ["| key | default | meaning |", "| --- | --- | --- |"]
        for field in fault_class.setting_fields():  # type: ignore[attr-defined]
            meaning = field.metadata.get("help", "")
            lines.append(f"| `{field.name}` | {_default(field)} | {_cell(meaning)} |")
        lines.append("")
    return lines


def _routes_section() -> list[str]:
    from orbit_sim.core.simulator import build_routers

    lines = [
        "## Route names",
        "",
        "What an API fault's `route` may name (or give a path glob starting with `/`, or `*`),",
        "per service; `service=` narrows a fault to one of them. An unknown name is refused.",
        "",
    ]
    for service, router in build_routers().items():
        if service == "control":
            continue
        patterns: dict[str, list[str]] = {}
        for route in router.routes:
            patterns.setdefault(route.name, []).append(f"`{route.method} {route.pattern}`")
        lines += [f"### {service}", "", "| name | calls |", "| --- | --- |"]
        for name in sorted(patterns):
            lines.append(f"| `{name}` | {'<br>'.join(patterns[name])} |")
        lines.append("")
    return lines


def render() -> str:
    lines = [
        "# orbit-sim reference",
        "",
        "Generated from the code by `python -m orbit_sim.reference`; do not edit by hand",
        "(tests/sim/test_reference.py fails when this page is stale).",
        "",
        *_control_section(),
        "",
        *_faults_section(),
        *_routes_section(),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    page = render()
    if args == ["--check"]:
        if PAGE.exists() and PAGE.read_text() == page:
            return 0
        print(f"{PAGE} is stale: run python -m orbit_sim.reference", file=sys.stderr)
        return 1
    if args:
        print("usage: python -m orbit_sim.reference [--check]", file=sys.stderr)
        return 2
    PAGE.write_text(page)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
