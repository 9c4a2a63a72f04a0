"""Check a request against botocore's service model, more strictly than botocore itself: its validator checks types,
required members and minimums, not enums, patterns or maximums, which AWS enforces (and moto often does not)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator


def assert_valid_request(service: str, operation: str, params: Mapping[str, Any]) -> None:
    input_shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    assert input_shape is not None, f"{service} {operation} takes no input"
    report = ParamValidator().validate(dict(params), input_shape)
    assert not report.has_errors(), report.generate_report()
    problems: list[str] = []
    _check(input_shape, params, operation, problems)
    assert not problems, problems


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    metadata = shape.metadata
    if isinstance(shape, StructureShape):
        for name, member in value.items():
            _check(shape.members[name], member, f"{path}.{name}", problems)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _check(shape.value, item, f"{path}.{key}", problems)
    elif isinstance(value, str):
        enum = metadata.get("enum", [])  # what botocore's StringShape.enum reads
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {enum}")
        if "pattern" in metadata and not re.fullmatch(metadata["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {metadata['pattern']}")
    if "max" in metadata and isinstance(value, str | bytes | list) and len(value) > metadata["max"]:
        problems.append(f"{path}: longer than {metadata['max']}")
    if "max" in metadata and isinstance(value, int) and not isinstance(value, bool) and value > metadata["max"]:
        problems.append(f"{path}: above {metadata['max']}")
