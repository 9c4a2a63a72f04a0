"""Parser model of the Amazon Connect contact record (CTR), as it arrives on a Kinesis stream.

Shaped by what Connect really sends (shared SCHEMA-NOTES.md §5, ctr01 to ctr03): PascalCase keys;
`AWSContactTraceRecordFormatVersion` "2017-03-10"; timestamps in whole seconds (`…:ssZ`); explicit nulls (`Agent`,
`Queue`, `Recording`, `Recordings` are null for an IVR-only contact, `Queue.EnqueueTimestamp` is null for OUTBOUND);
the first recording in both the older `Recording` and `Recordings`; unknown fields ignored. Only what the contact
state needs is modelled, so the endpoints (customer phone numbers) and `Attributes` are never even read.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, StringConstraints
from pydantic.alias_generators import to_pascal

from connect_state.models.agent_event import Channel, Nullable, OptionalText, OptionalTimestamp

CONTACT_RECORD_FORMAT_KEY = "AWSContactTraceRecordFormatVersion"  # what tells a contact record from other records
OptionalSeconds = Annotated[NonNegativeInt | None, Nullable]


class _RecordModel(BaseModel):
    """PascalCase keys, each field's name in PascalCase (`contact_id` → ContactId) unless it names its own alias."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_pascal)


class RecordQueue(_RecordModel):
    arn: OptionalText = Field(None, alias="ARN")
    name: OptionalText = None
    enqueue_timestamp: OptionalTimestamp = None
    dequeue_timestamp: OptionalTimestamp = None
    duration: OptionalSeconds = None


class RecordAgent(_RecordModel):
    arn: OptionalText = Field(None, alias="ARN")
    connected_to_agent_timestamp: OptionalTimestamp = None
    after_contact_work_start_timestamp: OptionalTimestamp = None
    after_contact_work_end_timestamp: OptionalTimestamp = None
    after_contact_work_duration: OptionalSeconds = None
    agent_initiated_hold_duration: OptionalSeconds = None


class Recording(_RecordModel):
    """One recording, in either shape: `Recordings[]` (StorageType, MediaStreamType) or the older `Recording` (Type)."""

    location: OptionalText = None
    status: OptionalText = None
    storage_type: OptionalText = None
    media_stream_type: OptionalText = None
    type: OptionalText = None  # the older `Recording`'s name for the media type
    participant_type: OptionalText = None
    deletion_reason: OptionalText = None
    start_timestamp: OptionalTimestamp = None
    stop_timestamp: OptionalTimestamp = None


class ContactRecord(_RecordModel):
    """One contact record. ContactId is what the state cannot do without; LastUpdateTimestamp orders re-deliveries."""

    format_version: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        alias=CONTACT_RECORD_FORMAT_KEY
    )
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    instance_arn: OptionalText = Field(None, alias="InstanceARN")
    channel: Annotated[Channel, Nullable] = None
    initiation_method: OptionalText = None
    initial_contact_id: OptionalText = None
    previous_contact_id: OptionalText = None
    next_contact_id: OptionalText = None
    initiation_timestamp: OptionalTimestamp = None
    connected_to_system_timestamp: OptionalTimestamp = None
    disconnect_timestamp: OptionalTimestamp = None
    last_update_timestamp: OptionalTimestamp = None
    disconnect_reason: OptionalText = None
    queue: Annotated[RecordQueue | None, Nullable] = None
    agent: Annotated[RecordAgent | None, Nullable] = None
    recording: Annotated[Recording | None, Nullable] = None
    recordings: Annotated[tuple[Recording, ...] | None, Nullable] = None

    def all_recordings(self) -> tuple[Recording, ...]:
        """`Recordings` when the record has it (it repeats the first recording), else the older single `Recording`."""
        if self.recordings:
            return self.recordings
        return (self.recording,) if self.recording is not None else ()
