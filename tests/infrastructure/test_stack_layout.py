"""The stack's shape: one construct per concern, each built on the shared runtime and helpers, never on another."""

from __future__ import annotations

import ast
from pathlib import Path

CONSTRUCTS = Path(__file__).resolve().parents[2] / "stacks" / "constructs"
# What every concern may build on: the function runtime and the small helper modules.
SHARED = {"stacks.constructs.lambda_runtime", "stacks.constructs.queues", "stacks.constructs.encryption"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return modules | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}


def test_no_concern_construct_imports_another() -> None:
    # Given every module of stacks/constructs/ that is a concern, not the shared runtime or a helper
    concerns = [
        p for p in CONSTRUCTS.glob("*.py") if p.stem != "__init__" and f"stacks.constructs.{p.stem}" not in SHARED
    ]
    assert {p.stem for p in concerns} >= {"agent_event_consumer", "contact_event_consumer", "contact_enrichment"}
    # Then each imports from stacks/constructs/ only what is shared (names and fixed values: stacks/constants.py)
    found = {
        p.stem: sorted(m for m in imported_modules(p) if m.startswith("stacks.constructs.") and m not in SHARED)
        for p in concerns
    }
    assert found == {p.stem: [] for p in concerns}


def test_the_contact_event_pattern_is_built_in_one_place() -> None:
    # The rule, the archive and the enrichment rules match the same events: one builder, no copies of its literals.
    for path in CONSTRUCTS.glob("*.py"):
        assert "Amazon Connect Contact Event" not in path.read_text(), path.name
