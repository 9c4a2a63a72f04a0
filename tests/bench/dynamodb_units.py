"""DynamoDB's billing arithmetic for on-demand tables: item sizes, write and read request units, index writes.

Hand-written because moto does not report consumed capacity (it returns none, or a constant) and no maintained
library computes it offline. The rules are DynamoDB's own (Developer Guide, "Item sizes and formats" and "Read/write
capacity mode"):
- an item's size is the sum of its attribute names' UTF-8 lengths and its values' sizes; a string is its UTF-8
  length, a number about one byte per two significant digits plus one, a boolean or null one byte, binary its length,
  a list or map 3 bytes plus each element plus one byte per element (a map's keys count like attribute names);
- a write (PutItem, UpdateItem) costs one WRU per started KB of the larger of the item before and after it, also when
  its condition fails (then the item as it was);
- a strongly consistent read costs one RRU per started 4 KB (half for an eventually consistent one), at least one
  (half) even when there is no item;
- a global secondary index costs a write of its own (sized like the item, as the indexes project ALL) when the item
  enters it, leaves it, or changes while in it; two when the index key itself changes (a delete and a put).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

Item = Mapping[str, Mapping[str, Any]]  # DynamoDB's typed JSON, as the low-level client sends and returns it
KB = 1024


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in content)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in content)
    if kind == "BS":
        return sum(len(b) for b in content)
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(before: Item | None, after: Item | None) -> int:
    """WRUs of one PutItem/UpdateItem on the table itself (a failed condition leaves `after` equal to `before`)."""
    return max(1, math.ceil(max(item_size(before), item_size(after)) / KB))


def read_units(item: Item | None, *, consistent: bool) -> float:
    units = max(1, math.ceil(item_size(item) / (4 * KB)))
    return float(units) if consistent else units / 2


def index_write_units(before: Item | None, after: Item | None, index_keys: Iterable[tuple[str, str]]) -> int:
    """WRUs spent on the global secondary indexes (projection ALL) by one write that turned `before` into `after`."""
    units = 0
    for partition, sort in index_keys:
        was_in = _in_index(before, partition, sort)
        is_in = _in_index(after, partition, sort)
        if was_in and is_in and before is not None and after is not None:
            if (before[partition], before[sort]) != (after[partition], after[sort]):
                units += _units(before) + _units(after)  # a key change is a delete and a put
            elif before != after:
                units += _units(after)
        elif is_in:
            units += _units(after)
        elif was_in:
            units += _units(before)
    return units


def _in_index(item: Item | None, partition: str, sort: str) -> bool:
    return bool(item) and partition in item and sort in item  # type: ignore[operator]


def _units(item: Item | None) -> int:
    return max(1, math.ceil(item_size(item) / KB))


def _number_size(text: str) -> int:
    digits = format(abs(Decimal(text)).normalize(), "f").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1
