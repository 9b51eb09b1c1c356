"""The reference page is generated from the code and committed; it must be current."""

from __future__ import annotations

from orbit_sim import reference
from orbit_sim.control.api import CONTROL_API
from orbit_sim.core.simulator import build_routers
from orbit_sim.faults import FAULT_KINDS


def test_committed_reference_page_is_current() -> None:
    assert reference.PAGE.read_text() == reference.render(), (
        "sim/REFERENCE.md is stale: run python -m orbit_sim.reference"
    )
    assert reference.main(["--check"]) == 0


def test_page_lists_every_control_route_fault_key_and_route_name() -> None:
    page = reference.render()
    for route in build_routers()["control"].routes:
        assert f"`{route.method} {route.pattern}`" in page
    assert len(build_routers()["control"].routes) == len(CONTROL_API)
    for kind, fault_class in FAULT_KINDS.items():
        section = page.split(f"### `{kind}`", 1)[1].split("###", 1)[0]
        for field in fault_class.setting_fields():
            assert f"| `{field.name}` |" in section
            assert field.metadata.get("help"), f"{kind}.{field.name} has no help text"
    for service in ("auth", "transfer", "gcs"):
        for route in build_routers()[service].routes:
            assert f"| `{route.name}` |" in page


def test_check_reports_a_stale_page(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    stale = tmp_path / "REFERENCE.md"
    stale.write_text("# old\n")
    monkeypatch.setattr(reference, "PAGE", stale)
    assert reference.main(["--check"]) == 1
    assert "stale: run python -m orbit_sim.reference" in capsys.readouterr().err
    assert reference.main([]) == 0 and reference.main(["--check"]) == 0
