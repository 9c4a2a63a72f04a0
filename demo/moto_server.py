"""The local AWS emulator: moto's server in a process of its own, with the fixes this project's stack needs.

    with LocalAws() as aws:   # `python -m demo.moto_server --port N`, stopped by its process id on exit
        ...                   # aws.endpoint_url; demo.emulator deploys the stack into it

Why each fix exists (found by deploying with moto 5.2.5 and the pinned aws-cdk CLI 2.1148.1; demo.emulator lists the
workarounds on the deploying side):

1. The server is a subprocess (`python -m demo.moto_server --port N`, stopped by its process id). The moto patches of
   2-4 then exist only in that process, and its state is not shared with a `mock_aws()` in the caller's process.
2. moto's CloudFormation has no AWS::DynamoDB::GlobalTable (what TableV2 synthesizes): it skips unsupported types
   with a warning, then fails the deploy on the first Fn::GetAtt of a table ("references undefined resource"). The
   server registers a model that creates an ordinary table: key schema, GSIs, billing mode, stream, TTL, and the
   replica's deletion protection. Replicas (one Region here) are dropped; moto does not report SSE or point-in-time
   recovery. moto also hands each new stream record to every event source mapping of the table, disabled or not: it
   tries to run the function (no Docker here), then empties the stream, so a stream reader (the demo's poller) finds
   no record. The server delivers to enabled mappings only, as Lambda does (demo.emulator disables them all).
3. Nor has it AWS::CloudWatch::Alarm: the dashboard body's Fn::GetAtt <alarm>.Arn fails the same way. The server
   registers a model that puts the alarm into moto's CloudWatch (never evaluated).
4. moto's EventBus and LayerVersion models have no physical id, so `Ref` gives the Python object: the contact
   function's EVENT_BUS_NAME became "<moto.events.models.EventBus object at 0x...>" and ListFunctions answered 500
   (not JSON serializable). Patched: Ref gives the bus name and the layer version ARN, as CloudFormation does.
   moto's AWS::Events::Archive expects EventPattern as a JSON string (CloudFormation gives an object) and uses the
   generated resource name, which can exceed the 48 characters archive names allow: both are adapted.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError

REPO = Path(__file__).resolve().parents[1]
_TAIL_LINES = 40

log = logging.getLogger(__name__)


class EmulatorError(RuntimeError):
    """The server did not start, or the CLI failed; the message carries the tail of its output."""


class LocalAws:
    """A moto server on localhost for the duration of a `with` block; always stopped (by its process id) on exit."""

    def __init__(self, port: int | None = None, *, start_timeout_seconds: float = 30) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://localhost:{self.port}"
        self._start_timeout = start_timeout_seconds
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """The server's output (one line per request, and moto's warnings), while the server runs."""
        if self._dir is None:
            raise EmulatorError("the server is not running")
        return Path(self._dir.name) / "moto.log"

    def __enter__(self) -> LocalAws:
        self._dir = tempfile.TemporaryDirectory(prefix="moto-")
        with self.log_path.open("wb") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "demo.moto_server", "--port", str(self.port)],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_listening()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        log.info("moto server pid %d at %s", self._process.pid, self.endpoint_url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM to self._process.pid: moto's server exits on it
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(f"moto server exited with {self._process.returncode}:\n{self._log_tail()}")
            try:
                socket.create_connection(("localhost", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise EmulatorError(f"moto server not listening on port {self.port} after {self._start_timeout} s")

    def _log_tail(self) -> str:
        return output_tail(self.log_path.read_text(errors="replace"))

    def failure(self, error: BaseException, keep_log: Path) -> str:
        """One line for a run that ends because the server failed it (every retry included): whether the process
        died or stopped answering. Its log is copied to `keep_log` first, as leaving the `with` block deletes it."""
        lines = str(error).strip().splitlines() or [type(error).__name__]
        keep_log.parent.mkdir(parents=True, exist_ok=True)
        if self._dir is not None and self.log_path.exists():
            shutil.copyfile(self.log_path, keep_log)
        with keep_log.open("a", encoding="utf-8") as kept:  # the CLI's output, when the failure carries it
            kept.write("\n--- the error that ended the run ---\n" + "\n".join(lines) + "\n")
        exit_code = self._process.poll() if self._process is not None else None
        if exit_code is not None:
            what = f"exited with code {exit_code}"
        elif isinstance(error, HTTPClientError | BotoConnectionError):  # timeouts, refused or dropped connections
            what = "did not answer"
        else:
            what = "failed"
        reason = lines[0]
        return (
            f"error: the local AWS emulator (moto server, pid {self.pid}) {what}: {reason}; "
            f"it is stopped; its log: {keep_log}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def output_tail(text: str) -> str:
    """The last lines of a process's output, for an error message."""
    return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


# --- the server process ------------------------------------------------------------------------------------------


def _serve(port: int) -> None:
    """moto's server with the CloudFormation models and fixes 2-4 (this process only)."""
    from moto.awslambda.models import LayerVersion
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import Alarm, cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.events.models import Archive, EventBus
    from moto.server import main as moto_server

    class GlobalTable(Table, CloudFormationModel):
        # moto files a model under the second part of its module name (here: dynamodb)
        __module__ = "moto.dynamodb.global_table"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::DynamoDB::GlobalTable"

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Table:
            properties = dict(cloudformation_json["Properties"])
            (replica, *_) = properties.pop("Replicas", None) or [{}]
            # A replica setting in a GlobalTable, a table setting in moto: DeleteTable is refused here as in AWS.
            properties["DeletionProtectionEnabled"] = replica.get("DeletionProtectionEnabled", False)
            ttl = properties.pop("TimeToLiveSpecification", None)
            table = Table.create_from_cloudformation_json(
                resource_name, {"Properties": properties}, account_id, region_name, **kwargs
            )
            if ttl:
                dynamodb_backends[account_id][region_name].update_time_to_live(table.name, ttl)
            return table

    add_stream_record = StreamShard.add

    def add_for_enabled_mappings(shard: StreamShard, old: Any, new: Any) -> None:
        table = shard.table
        mappings = table.lambda_event_source_mappings
        table.lambda_event_source_mappings = {arn: esm for arn, esm in mappings.items() if esm.enabled}
        try:
            add_stream_record(shard, old, new)
        finally:
            table.lambda_event_source_mappings = mappings

    type.__setattr__(StreamShard, "add", add_for_enabled_mappings)

    class CloudFormationAlarm(Alarm, CloudFormationModel):
        __module__ = "moto.cloudwatch.cloudformation_alarm"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name == "Arn":
                return self.alarm_arn
            raise NotImplementedError(f"Fn::GetAtt {{0}}.{attribute_name}")

        @classmethod
        def create_from_cloudformation_json(
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> Alarm:
            p = cloudformation_json["Properties"]
            alarm = cls(
                account_id=account_id,
                region_name=region_name,
                name=resource_name,
                namespace=p.get("Namespace", ""),
                metric_name=p.get("MetricName", ""),
                metric_data_queries=None,
                comparison_operator=p["ComparisonOperator"],
                evaluation_periods=int(p["EvaluationPeriods"]),
                datapoints_to_alarm=p.get("DatapointsToAlarm"),
                period=int(p.get("Period", 60)),
                threshold=float(p.get("Threshold", 0)),
                statistic=p.get("Statistic", ""),
                extended_statistic=p.get("ExtendedStatistic"),
                description=p.get("AlarmDescription", ""),
                dimensions=p.get("Dimensions", []),
                alarm_actions=p.get("AlarmActions", []),
                ok_actions=p.get("OKActions"),
                insufficient_data_actions=p.get("InsufficientDataActions"),
                unit=p.get("Unit"),
                actions_enabled=p.get("ActionsEnabled", True),
                treat_missing_data=p.get("TreatMissingData"),
                evaluate_low_sample_count_percentile=None,
                threshold_metric_id=None,
                rule=None,
            )
            cloudwatch_backends[account_id][region_name].alarms[resource_name] = alarm
            return alarm

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            cloudwatch_backends[account_id][region_name].alarms.pop(resource_name, None)

    create_archive = Archive.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def archive_from_template(
        cls: type[Archive], resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Archive:
        properties = dict(cloudformation_json["Properties"])
        if isinstance(properties.get("EventPattern"), dict):
            properties["EventPattern"] = json.dumps(properties["EventPattern"])
        # Archive names are at most 48 characters; CloudFormation generates a short one.
        name = resource_name if len(resource_name) <= 48 else resource_name[-48:].lstrip("-")
        return create_archive(cls, name, {**cloudformation_json, "Properties": properties}, *args, **kwargs)  # type: ignore[no-any-return]

    type.__setattr__(Archive, "create_from_cloudformation_json", classmethod(archive_from_template))
    type.__setattr__(EventBus, "physical_resource_id", property(lambda bus: bus.name))
    type.__setattr__(LayerVersion, "physical_resource_id", property(lambda layer: layer.arn))
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # the model list is CloudFormationModel.__subclasses__(), cached on first use
    moto_server(["--host", "127.0.0.1", "--port", str(port)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto server with the fixes this project's stack needs")
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)
