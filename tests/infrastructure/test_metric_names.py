"""One list of metric names (connect_state.metric_names): what the functions emit is what the dashboard graphs.

The emitted names are read from the code itself (every `add_metric` call, resolved through the module's MetricName),
the graphed ones from the synthesized dashboard, so neither side can drift from the other.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connect_state.domain.versioned import Outcome
from connect_state.handlers import agent_events, contact_events, enrichment
from connect_state.metric_names import MetricName
from connect_state.models.decoder import ForeignKind
from connect_state.service import enrichment as enrichment_service
from stacks.constants import METRICS_NAMESPACE
from tests.infrastructure.conftest import resources, synth

pytestmark = pytest.mark.xdist_group("cdk")
CODE = Path(__file__).resolve().parents[2] / "lambdas" / "connect_state"
NAMES_MODULE = CODE / "metric_names.py"


def _metric_name(node: ast.expr) -> str | None:
    """`MetricName.X` -> its value; anything else -> None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "MetricName":
        return MetricName[node.attr].value
    return None


def _name_mappings(tree: ast.Module) -> dict[str, set[str]]:
    """Module-level dict literals whose every value is a `MetricName.X`: name -> the metric names it maps to."""
    found: dict[str, set[str]] = {}
    for node in tree.body:
        target, value = (
            (node.targets[0], node.value)
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            else (node.target, node.value)
            if isinstance(node, ast.AnnAssign)
            else (None, None)
        )
        if isinstance(target, ast.Name) and isinstance(value, ast.Dict):
            names = [_metric_name(v) for v in value.values]
            if names and all(names):
                found[target.id] = {n for n in names if n}
    return found


class _Code:
    """The functions' modules parsed once: each module's MetricName mappings, and every function by name."""

    def __init__(self) -> None:
        self.trees = {path: ast.parse(path.read_text()) for path in sorted(CODE.rglob("*.py"))}
        self.mappings = {path: _name_mappings(tree) for path, tree in self.trees.items()}
        self.functions = {
            node.name: (path, node)
            for path, tree in self.trees.items()
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)
        }

    def resolve(self, node: ast.expr, path: Path, function: ast.FunctionDef | None, depth: int = 0) -> set[str] | None:
        """The metric names `node` can be: `MetricName.X`, a module's mapping of them (or an item of one), or a
        parameter of `function`, resolved at every call of that function. None if any of that is something else."""
        if depth > 5:
            return None
        direct = _metric_name(node)
        if direct:
            return {direct}
        if isinstance(node, ast.Subscript):
            return self.resolve(node.value, path, function, depth)
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.mappings[path]:
            return self.mappings[path][node.id]
        if function is not None and node.id in [a.arg for a in function.args.args]:
            return self._at_calls(function, node.id, depth + 1)
        return None

    def _at_calls(self, function: ast.FunctionDef, parameter: str, depth: int) -> set[str] | None:
        position = [a.arg for a in function.args.args].index(parameter)
        names: set[str] = set()
        calls = 0
        for path, tree in self.trees.items():
            for call, caller in _calls_by_function(tree):
                if not (isinstance(call.func, ast.Name | ast.Attribute) and _called(call.func) == function.name):
                    continue
                keyword = next((k.value for k in call.keywords if k.arg == parameter), None)
                argument = keyword or (call.args[position] if position < len(call.args) else None)
                found = self.resolve(argument, path, caller, depth) if argument is not None else None
                if found is None:
                    return None
                names |= found
                calls += 1
        return names if calls else None


def _called(callee: ast.Name | ast.Attribute) -> str:
    return callee.id if isinstance(callee, ast.Name) else callee.attr


def _calls_by_function(tree: ast.Module) -> Iterator[tuple[ast.Call, ast.FunctionDef | None]]:
    """Every call of the module with the function it is written in (None: at module level)."""

    def visit(node: ast.AST, function: ast.FunctionDef | None) -> Iterator[tuple[ast.Call, ast.FunctionDef | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                yield child, function
            yield from visit(child, child if isinstance(child, ast.FunctionDef) else function)

    return visit(tree, None)


def emission_sites() -> list[tuple[str, set[str] | None]]:
    """Every `add_metric(name=...)` in the functions' code: (where, the names it can emit, None if unresolvable),
    followed through the helpers that take the names as parameters to every call of them."""
    code = _Code()
    sites: list[tuple[str, set[str] | None]] = []
    for path, tree in code.trees.items():
        for call, function in _calls_by_function(tree):
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "add_metric"):
                continue
            argument = next((k.value for k in call.keywords if k.arg == "name"), call.args[0] if call.args else None)
            where = f"{path.relative_to(CODE.parent)}:{call.lineno}: {ast.unparse(argument) if argument else '?'}"
            sites.append((where, code.resolve(argument, path, function) if argument is not None else None))
    return sites


def emitted() -> set[str]:
    return {name for _, names in emission_sites() for name in names or ()}


def dashboard_metrics(template: Any) -> set[str]:
    """The project's own metrics (its namespace) on any widget of the dashboard."""
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    # References (alarm ARNs, function names, the Region) sit inside JSON strings: any text stands in for them.
    document = json.loads("".join(part if isinstance(part, str) else "ref" for part in parts))
    graphed: set[str] = set()
    for widget in document["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            if metric and metric[0] == METRICS_NAMESPACE:
                graphed.add(metric[1])
    return graphed


def alarm_metrics(template: Any) -> set[str]:
    names: set[str] = set()
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        stats = [properties] + [q["MetricStat"]["Metric"] for q in properties.get("Metrics", []) if "MetricStat" in q]
        names |= {s["MetricName"] for s in stats if s.get("Namespace") == METRICS_NAMESPACE}
    return names


def test_every_metric_the_functions_emit_is_named_by_the_metric_names_module() -> None:
    # Given every add_metric call in lambdas/connect_state
    sites = emission_sites()
    assert len(sites) >= 3
    # Then each names its metric through MetricName (directly or through a mapping of MetricName values)
    assert [where for where, names in sites if names is None] == []
    # And no metric name is spelled out anywhere else in the functions' code
    spelled_out = [
        f"{path.relative_to(CODE.parent)}:{node.lineno}: {node.value!r}"
        for path in CODE.rglob("*.py")
        if path != NAMES_MODULE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in set(MetricName)
    ]
    assert spelled_out == []
    # And every name of the module is emitted somewhere (no name left over from removed code)
    assert {name.value for name in MetricName} - emitted() == set()


@pytest.mark.parametrize(
    ("handler", "count_keys"),
    [
        (
            agent_events,
            {o.value for o in Outcome} | {f"foreign:{kind.value}" for kind in ForeignKind},
        ),
        (contact_events, {o.value for o in Outcome}),
        (enrichment, {o.value for o in enrichment_service.Outcome}),
    ],
    ids=["agent events", "contact events", "enrichment"],
)
def test_every_outcome_a_service_counts_has_a_metric(handler: Any, count_keys: set[str]) -> None:
    # Given the outcomes of the service's enum(s) and every literal key it counts (`report.counts["..."]`)
    service = CODE / "service" / Path(handler.__file__).name
    # (the agent and contact services count through the batch they share, too)
    shared = [CODE / "service" / "coalescing.py"] if handler is not enrichment else []
    literal_keys = {
        node.slice.value
        for path in [service, *shared]
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "counts"
        and isinstance(node.slice, ast.Constant)
    }
    # Then the handler maps each of them to a metric name (a key it cannot map would fail the invocation)
    assert (count_keys | literal_keys) - set(handler.METRIC_NAMES) == set()
    assert all(isinstance(name, MetricName) for name in handler.METRIC_NAMES.values())


def test_the_dashboard_graphs_exactly_the_metrics_the_functions_emit() -> None:
    _, template = synth()
    graphed = dashboard_metrics(template)
    assert {"not graphed": emitted() - graphed, "graphed, never emitted": graphed - emitted()} == {
        "not graphed": set(),
        "graphed, never emitted": set(),
    }


def test_every_metric_an_alarm_watches_is_emitted() -> None:
    _, template = synth()
    watched = alarm_metrics(template)
    assert watched
    assert watched - emitted() == set()


def test_without_enrichment_the_dashboard_leaves_out_the_enrichment_metrics() -> None:
    _, template = synth(enrichment={"enabled": False})
    graphed = dashboard_metrics(template)
    assert MetricName.CONTACT_EVENTS_APPLIED in graphed
    assert not {MetricName.CONTACTS_ENRICHED, MetricName.DESCRIBE_CONTACT_CALLS} & graphed
