"""What the README's Deploy section and CHANGELOG.md promise a deployer, checked against the synthesized stack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.conftest import synth

pytestmark = pytest.mark.xdist_group("cdk")
ROOT = Path(__file__).resolve().parents[2]
KEY = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"
# Configurations that add or remove resource types: the defaults, your own stream, bus and alarm topic, an email.
CONFIGURATIONS: list[dict[str, Any]] = [
    {},
    {"kmsKeyArn": KEY, "alarms": {"email": "oncall@example.com"}},
    {
        "agentEventStreamArn": "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events",
        "eventBusName": "default",
        "contactEventArchiveDays": 0,
        "enrichment": {"enabled": False},
    },
    {"wallboard": {"identityProvider": {"type": "SAML", "name": "Entra", "metadataUrl": "https://idp.example.com/m"}}},
]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n### {title}\n")
    end = text.find("\n#", start + 1)
    return text[start:end]


def test_the_permissions_section_lists_every_resource_type_the_stack_can_create() -> None:
    """An administrator writes the CloudFormation execution policy from this list: it must be complete and current."""
    created: set[str] = set()
    for overrides in CONFIGURATIONS:
        _, template = synth(**overrides)
        # AWS types: a custom resource (Custom::...) needs lambda:InvokeFunction on its function, said in the text
        created |= {r["Type"] for r in template.to_json()["Resources"].values() if r["Type"].startswith("AWS::")}
    listed = set(re.findall(r"`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`", readme_section("Permissions to deploy")))
    assert listed == created


def test_the_stack_outputs_the_table_contract_version_the_changelog_announces_last() -> None:
    _, template = synth()
    versions = re.findall(r"^## (\d+\.\d+\.\d+)\b", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert versions, "CHANGELOG.md has no '## <version>' heading"
    assert template.to_json()["Outputs"]["TableContractVersion"]["Value"] == versions[0]


def test_every_changelog_release_says_what_happened_to_the_table_contract() -> None:
    releases = re.split(r"^## ", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)[1:]
    assert releases
    for release in releases:
        assert "### Table contract" in release, release.splitlines()[0]


def test_the_cost_section_quotes_the_command_that_produced_it() -> None:
    section = readme_section("Cost")
    assert "make cost" in section
    figures = json.dumps(section)
    assert "100 agents" in figures
    assert "1,000 agents" in figures


def test_the_node_section_names_the_pinned_cli_and_the_supported_node_versions() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    section = readme_section("Node.js")
    assert f"`aws-cdk` {package['devDependencies']['aws-cdk']}" in section
    assert package["engines"]["node"] == ">=22"
    assert f'"engines": {{"node": "{package["engines"]["node"]}"}}' in section
