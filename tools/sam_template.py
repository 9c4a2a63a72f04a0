"""`make invoke FUNCTION=agent_events`: the synthesized template, with names `sam local invoke` can use.

    .venv/bin/python -m tools.sam_template agent_events    # writes cdk.out/ConnectRealtimeState.sam.json

SAM CLI names a CDK function by its construct path only when the path has two or three parts
(`Stack/Function/Resource`). Ours have four (`ConnectRealtimeState/AgentEvents/Function/Resource`), so SAM falls back
to the CloudFormation logical id (`AgentEventsFunctionBD95CED8`, which carries a hash) and warns once per resource of
the stack. The copy written here gives every resource the id SAM reads first (`Metadata.SamResourceId`, what SAM's
own CDK and Terraform support set): each function its short name (its handler module, also the name of its sample
event in events/), every other resource its logical id. The copy sits next to the template, whose asset paths are
relative to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TEMPLATE = Path("cdk.out") / "ConnectRealtimeState.template.json"
HANDLER_PACKAGE = "connect_state.handlers."
SAM_RESOURCE_ID = "SamResourceId"


def functions(template: Path) -> dict[str, str]:
    """Each function's short name (its handler module: "agent_events") -> its logical id."""
    return _functions(json.loads(template.read_text())["Resources"])


def sam_template_path(template: Path) -> Path:
    return template.with_name(template.name.replace(".template.json", ".sam.json"))


def write_sam_template(template: Path) -> Path:
    """The copy of `template` in which SAM knows each function by its short name; returns its path."""
    document: dict[str, Any] = json.loads(template.read_text())
    resources = document["Resources"]
    short_names = {logical_id: name for name, logical_id in _functions(resources).items()}
    for logical_id, resource in resources.items():
        resource.setdefault("Metadata", {})[SAM_RESOURCE_ID] = short_names.get(logical_id, logical_id)
    path = sam_template_path(template)
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def _functions(resources: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for logical_id, resource in resources.items():
        handler = resource.get("Properties", {}).get("Handler", "")
        if resource["Type"] == "AWS::Lambda::Function" and handler.startswith(HANDLER_PACKAGE):
            found[handler.removeprefix(HANDLER_PACKAGE).rsplit(".", 1)[0]] = logical_id
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_template", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "name", help="the function to invoke: agent_events, contact_events, enrichment or board_changes"
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    if not args.template.exists():
        raise SystemExit(f"error: no {args.template}: run `make synth` first")
    known = functions(args.template)
    if args.name not in known:
        raise SystemExit(f'error: no function "{args.name}": the functions are {", ".join(sorted(known))}')
    write_sam_template(args.template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
