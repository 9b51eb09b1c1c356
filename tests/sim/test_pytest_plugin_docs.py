"""The plugin's documentation runs: every fixture's docstring example and the README's
pytest-plugin blocks pass as a user's suite (pytester)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import textwrap
from pathlib import Path

import globus_sdk.services.transfer
import globus_sdk.testing
import globus_sdk.transport
import pytest

import orbit_sim.pytest_plugin
import orbit_sim.testing

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCE = Path(orbit_sim.pytest_plugin.__file__).read_text()
README = (ROOT / "README.md").read_text()
# Imported here: pytester's in-process run forgets modules first imported inside it.
_KEEP_IMPORTED = (globus_sdk.services.transfer, globus_sdk.testing, globus_sdk.transport)
_KEEP_IMPORTED_SIM = (orbit_sim.testing,)


def fixture_examples() -> dict[str, str]:
    """Each fixture's name and the code block after `Example::` in its docstring."""
    examples = {}
    for node in ast.parse(PLUGIN_SOURCE).body:
        if not isinstance(node, ast.FunctionDef) or not any(
            "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            continue
        doc = ast.get_docstring(node, clean=False) or ""
        _, found, example = doc.partition("Example::")
        examples[node.name] = textwrap.dedent(example).strip() + "\n" if found else ""
    return examples


def readme_plugin_blocks() -> list[str]:
    section = README.split("## Testing your own programs: the pytest plugin", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)


def test_every_fixture_has_an_example() -> None:
    examples = fixture_examples()
    assert len(examples) >= 10
    assert [name for name, example in examples.items() if "def test_" not in example] == []


@pytest.mark.skipif(shutil.which("nc") is None, reason="nc is not installed")
def test_the_examples_pass_as_a_users_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a user's activated venv: the package's commands on PATH.
    venv_bin = Path(orbit_sim.testing.tool("globus-streams")).parent
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    files = {f"test_doc_{name}": code for name, code in fixture_examples().items()}
    files |= {f"test_readme_{i}": code for i, code in enumerate(readme_plugin_blocks())}
    assert len(files) >= 13
    pytester.makepyfile(**files)
    tests = sum(code.count("\ndef test_") + code.startswith("def test_") for code in files.values())
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=tests)
