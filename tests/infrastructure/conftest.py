"""Synthesizing the app is slow (jsii), so each configuration is built once and shared by the tests that read it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.app_factory import build_app
from stacks.config import example_context
from stacks.realtime_state_stack import RealtimeStateStack


@cache
def _synth(overrides_json: str) -> tuple[RealtimeStateStack, Template]:
    overrides = json.loads(overrides_json)
    # Path metadata lets tests find a resource by its construct path, as `cdk synth` writes it.
    context = example_context(**{"aws:cdk:enable-path-metadata": True}, **overrides)
    app = cdk.App(context=context)
    stack = build_app(app)
    return stack, Template.from_stack(stack)


def synth(**overrides: Any) -> tuple[RealtimeStateStack, Template]:
    """The stack and its template, for the documented example (stacks.config.example_context: cdk.json's feature
    flags, never its settings) with `overrides` (context keys, dotted ones too) applied."""
    return _synth(json.dumps(overrides, sort_keys=True))


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources(resource_type)
    return found


def project_functions(template: Template) -> dict[str, dict[str, Any]]:
    """The project's functions (handlers of lambdas/connect_state), not the CDK's own (the wallboard's
    BucketDeployment function, which copies the page into its bucket at deploy)."""
    return {
        logical_id: function
        for logical_id, function in resources(template, "AWS::Lambda::Function").items()
        if str(function["Properties"].get("Handler", "")).startswith("connect_state.")
    }


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = resources(template, resource_type).values()
    return resource["Properties"]  # type: ignore[no-any-return]


def logical_id_of(template: Template, resource_type: str, path_part: str) -> str:
    """The one resource of `resource_type` whose construct path contains `path_part`."""
    (logical_id,) = [
        key
        for key, value in resources(template, resource_type).items()
        if path_part in value.get("Metadata", {}).get("aws:cdk:path", "")
    ]
    return logical_id


def properties_at(template: Template, resource_type: str, path_part: str) -> dict[str, Any]:
    return resources(template, resource_type)[logical_id_of(template, resource_type, path_part)]["Properties"]  # type: ignore[no-any-return]
