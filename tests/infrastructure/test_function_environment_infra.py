"""The environment each function is deployed with is exactly what its configuration model reads: the names come from
one enum (connect_state.config.Env) that the constructs and the handlers share, and none is left to a default."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from connect_state.config import AgentEventsConfig, ContactEventsConfig, EnrichmentConfig
from tests.infrastructure.conftest import resources, synth

pytestmark = pytest.mark.xdist_group("cdk")


@pytest.mark.parametrize(
    ("handler", "model"),
    [
        ("connect_state.handlers.agent_events.lambda_handler", AgentEventsConfig),
        ("connect_state.handlers.contact_events.lambda_handler", ContactEventsConfig),
        ("connect_state.handlers.enrichment.lambda_handler", EnrichmentConfig),
    ],
    ids=["agent events", "contact events", "enrichment"],
)
def test_each_function_is_given_every_variable_its_configuration_requires(handler: str, model: type[BaseModel]) -> None:
    _, template = synth()
    (function,) = [
        resource["Properties"]
        for resource in resources(template, "AWS::Lambda::Function").values()
        if resource["Properties"].get("Handler") == handler
    ]
    deployed = {name for name in function["Environment"]["Variables"] if not name.startswith(("POWERTOOLS_", "AWS_"))}
    required = {field.alias for field in model.model_fields.values()}
    assert all(field.is_required() for field in model.model_fields.values())
    assert deployed == required
