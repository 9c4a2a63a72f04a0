"""Property: any order, duplication or replay of the same agent events ends in the same item.

Checked on the real and documented samples and on generated agent sessions (built from the schema, not captured),
first for the pure merge, then through the writer's compare-and-set against a store with DynamoDB's semantics,
with random batch boundaries, two concurrent writers, containers that lose their cache, and a table cleared mid-stream
and rebuilt by a replay while the containers stay warm.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agent_sessions import REAL_SAMPLES, Record, agent_sessions, converge, deliveries, items_in_order
from tests.fakes import InMemoryAgentStateStore


@settings(max_examples=150, deadline=None)
@given(data=st.data(), records=st.one_of(agent_sessions(), st.just(REAL_SAMPLES)))
def test_any_order_and_duplication_gives_the_same_items(data: st.DataObject, records: list[Record]) -> None:
    shuffled = data.draw(deliveries(records))
    assert items_in_order(shuffled) == items_in_order(records)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), records=st.one_of(agent_sessions(), st.just(REAL_SAMPLES)))
def test_conditional_writes_converge_whatever_the_batches_writers_caches_and_rebuilds(
    data: st.DataObject, records: list[Record]
) -> None:
    store = InMemoryAgentStateStore()
    converge(data, records, store, store.items.clear, lambda: store.items)
