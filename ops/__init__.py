"""Operations tools: the README's "Operations" runbook as commands (each one a `make` target).

    python -m ops.replay_stream       replay a time range (or all) of the agent stream, or the failed batches in S3
    python -m ops.redrive             send a queue's messages back where they came from
    python -m ops.put_agent_records   put quarantined agent records back on the stream, byte for byte
    python -m ops.replay_contacts     replay a time range of contact events from the EventBridge archive
    python -m ops.clear_state         empty the state tables before a rebuild

Every tool finds the deployed resources from the stack's outputs (`--stack`, default ConnectRealtimeState). The logic
is written against small ports; the boto3 adapters are in ops.aws, so tests run the logic against the emulator (and
an in-process function where the emulator cannot run Lambda).
"""
