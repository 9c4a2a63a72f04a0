"""Evaluates the small part of CloudWatch metric math the alarms use, at one datapoint, so tests can check what an
alarm's expression computes rather than how it is spelled.

Supported: `IF(condition, a, b)`, `FILL(series, value)`, `DAY/HOUR/MINUTE(series)` (of the datapoint's UTC
timestamp; DAY is the ISO weekday, Monday 1, as CloudWatch documents it), `AND`, `OR`, comparisons, `+ - * /`,
numbers and query ids. A missing datapoint is None: FILL replaces it, anything else computed from it is missing too.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_ALLOWED = re.compile(r"^(?:\s|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[-+*/(),<>=]|>=|<=|==|!=)*$")
_FUNCTIONS = {"IF": "_if", "FILL": "_fill", "DAY": "_day", "HOUR": "_hour", "MINUTE": "_minute"}


class _Missing(Exception):
    pass


def evaluate(queries: list[dict[str, Any]], at: datetime, values: dict[str, float | None]) -> float | None:
    """The value of the alarm's returned query at time `at`; `values` gives each metric (by MetricName) at `at`."""
    by_id = {query["Id"]: query for query in queries}

    def value_of(query_id: str) -> float | None:
        query = by_id[query_id]
        if "MetricStat" in query:
            return values.get(query["MetricStat"]["Metric"]["MetricName"])
        return _expression(query["Expression"], at, {i: (lambda i=i: value_of(i)) for i in by_id if i != query_id})

    (returned,) = [query["Id"] for query in queries if query.get("ReturnData", True)]
    return value_of(returned)


def _expression(expression: str, at: datetime, series: dict[str, Any]) -> float | None:
    assert _ALLOWED.match(expression), f"outside the supported metric math: {expression}"
    python = re.sub(r"\bAND\b", " and ", expression)
    python = re.sub(r"\bOR\b", " or ", python)
    for name, function in _FUNCTIONS.items():
        python = re.sub(rf"\b{name}\(", f"{function}(", python)
    # Each id becomes a call, so only the series an expression uses are computed.
    python = re.sub(r"\b(?!and\b|or\b)([a-z][A-Za-z0-9_]*)\b(?!\()", lambda m: f"_series('{m.group(1)}')", python)

    def present(value: float | None) -> float:
        if value is None:
            raise _Missing
        return value

    namespace = {
        "_series": lambda name: series[name](),
        "_if": lambda condition, a, b: a if condition else b,
        "_fill": lambda value, filler: filler if value is None else value,
        "_day": lambda value: (present(value), at.isoweekday())[1],
        "_hour": lambda value: (present(value), at.hour)[1],
        "_minute": lambda value: (present(value), at.minute)[1],
    }
    try:
        result = eval(python, {"__builtins__": {}}, namespace)  # the template's own expression, checked above
    except (_Missing, TypeError):
        return None
    return float(result)
