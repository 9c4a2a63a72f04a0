"""`make invoke FUNCTION=agent_events` / `make sam-check`: `sam local invoke` against the demo's local emulator.

    .venv/bin/python -m tools.sam_invoke agent_events [--event events/agent_events.json]
    .venv/bin/python -m tools.sam_invoke --check        # every function, its effect checked

The stack is deployed into the demo's moto server (demo.emulator), the `--env-vars` file is written from the
deployed functions' environments (the table and queue names moto gave them), and SAM CLI runs the function in a
Lambda-like container (Docker, arm64 under qemu-user-static on other machines). What the container needs that the
template does not give it:

- An endpoint: `--env-vars` only overrides variables the template declares, so the copy of the SAM template used
  here (`ConnectRealtimeState.sam-emulator.json`, next to the template: its asset paths are relative) declares
  AWS_ENDPOINT_URL on every function. Its value is the emulator's port on the Docker bridge's gateway, the host as
  the container sees it (`--docker-network host` does not give a SAM container host networking).
- The emulator listens on 127.0.0.1 only, which a container cannot reach: `BridgeForwarder` relays the gateway's
  port to it for the duration of the run.

SAM exits 0 even when the function timed out or raised: the run is judged by SAM's output, and then by the item the
function wrote.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from demo.emulator import (
    CREDENTIALS,
    DeployedFunction,
    LocalAws,
    client_config,
    deploy_stack,
    function_environments,
    stack_region,
)
from tools.sam_template import HANDLER_PACKAGE, SAM_RESOURCE_ID, TEMPLATE, write_sam_template
from tools.sam_template import functions as known_functions

SAM = Path(".tools/bin/sam")
BASE_IMAGE = "public.ecr.aws/lambda/python:3.13-arm64"  # what SAM builds the python3.13 arm64 invoke image from
EVENTS = Path("events")
SAM_TEMPLATE_NAME = "ConnectRealtimeState.sam-emulator.json"
ENV_VARS_NAME = "sam-env-vars.json"
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
# What the output holds when the function failed, though SAM exits 0: SAM's timeout line ("Function 'agent_events'
# timed out after 60 seconds", samcli/local/lambdafn/runtime.py), the runtime's error reply, a logged traceback.
FAILURE_MARKERS = ("timed out after", "Task timed out", '"errorType"', "Traceback (most recent call last)")


@dataclass(frozen=True)
class Invocation:
    function: str
    seconds: float
    output: str

    @property
    def failure(self) -> str | None:
        return next((marker for marker in FAILURE_MARKERS if marker in self.output), None)


def bridge_gateway() -> str:
    """The Docker bridge's gateway address: where a container on the default network reaches the host. Docker 20.10
    leaves Gateway out of the default bridge's IPAM settings; the bridge interface's own address is the gateway."""
    inspect = subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True, text=True, check=True)
    network = json.loads(inspect.stdout)[0]
    gateways = [config["Gateway"] for config in network["IPAM"]["Config"] if config.get("Gateway")]
    if gateways:
        return str(gateways[0])
    interface = network["Options"].get("com.docker.network.bridge.name", "docker0")
    addresses = subprocess.run(["ip", "-json", "-4", "addr", "show", "dev", interface], capture_output=True, check=True)
    return str(json.loads(addresses.stdout)[0]["addr_info"][0]["local"])


class BridgeForwarder:
    """Relays TCP connections from `listen_host`:`port` to 127.0.0.1:`port` until closed.

    Hand-written (a thread per connection, ~30 lines) because the emulator (demo.moto_server) binds 127.0.0.1 only
    and a container reaches the host only at the bridge's gateway; socat would be one more system package to install.
    """

    def __init__(self, listen_host: str, port: int) -> None:
        self.port = port
        self._server = socket.create_server((listen_host, port))
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                inbound, _ = self._server.accept()
            except OSError:
                return
            outbound = socket.create_connection(("127.0.0.1", self.port))
            for source, target in ((inbound, outbound), (outbound, inbound)):
                threading.Thread(target=_pipe, args=(source, target), daemon=True).start()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def write_emulator_template(template: Path) -> Path:
    """The SAM template (short names, tools.sam_template) with AWS_ENDPOINT_URL declared on every function."""
    document: dict[str, Any] = json.loads(write_sam_template(template).read_text())
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            environment = resource["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
            environment[ENDPOINT_VARIABLE] = ""
    path = template.with_name(SAM_TEMPLATE_NAME)
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def write_env_vars(path: Path, functions: dict[str, DeployedFunction], endpoint_url: str) -> Path:
    """SAM's --env-vars file: each function (by its short name) with the environment the emulator deployed it with."""
    document = {
        short_name(function): {**function.environment, ENDPOINT_VARIABLE: endpoint_url}
        for function in functions.values()
        if function.handler.startswith(HANDLER_PACKAGE)
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path


def short_name(function: DeployedFunction) -> str:
    return function.handler.removeprefix(HANDLER_PACKAGE).rsplit(".", 1)[0]


def sam_invoke(function: str, event: Path, region: str, template: Path, env_vars: Path) -> Invocation:
    command = [
        str(SAM),
        "local",
        "invoke",
        function,
        "--skip-pull-image",
        "--template",
        str(template),
        "--event",
        str(event),
        "--env-vars",
        str(env_vars),
        "--region",
        region,
    ]
    # SAM hands the container the caller's credentials: the emulator's, never a profile of the caller's.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAM_CLI_TELEMETRY": "0",
    }
    print(f"$ {' '.join(command)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    invocation = Invocation(function, time.monotonic() - started, result.stdout)
    print(result.stdout, flush=True)
    if result.returncode != 0:
        raise SystemExit(f"error: sam local invoke {function} exited {result.returncode}")
    return invocation


def _scan(endpoint_url: str, region: str, table: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        config=client_config(),
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )
    return [dict(item) for item in dynamodb.scan(TableName=table)["Items"]]


Effect = Callable[[str, str, dict[str, str]], str | None]


def _items_in(variable: str) -> Effect:
    def check(endpoint_url: str, region: str, environment: dict[str, str]) -> str | None:
        items = _scan(endpoint_url, region, environment[variable])
        print(f"{environment[variable]}: {len(items)} item(s)")
        for item in items:
            print(f"  {json.dumps(item)[:300]}")
        return None if items else f"no item in {environment[variable]}"

    return check


# What each function leaves behind: the state item written, the wallboard row written, and, for the enrichment (which
# the emulator cannot answer: moto has no DescribeContact), the call slot claimed before each DescribeContact call.
EFFECTS: dict[str, Effect] = {
    "agent_events": _items_in("AGENT_TABLE_NAME"),
    "contact_events": _items_in("CONTACT_TABLE_NAME"),
    "board_changes": _items_in("BOARD_TABLE_NAME"),
    "enrichment": _items_in("CALL_SLOTS_TABLE_NAME"),
}


def precompile_assets(sam_template: Path, names: Iterable[str]) -> None:
    """Byte code for the functions' code and layers, compiled by the base image's own Python for the paths the
    container mounts them at (/var/task, /opt). Under emulation (qemu) the uncompiled imports took 32 s of the agent
    function's 60 s timeout, compiled 17 s; every invocation is a new container, so byte code written then is lost."""
    resources = json.loads(sam_template.read_text())["Resources"]
    mounts: dict[Path, str] = {}
    for resource in resources.values():
        if resource["Metadata"].get(SAM_RESOURCE_ID) not in names:
            continue
        mounts[sam_template.parent / resource["Metadata"]["aws:asset:path"]] = "/var/task"
        for layer in resource["Properties"].get("Layers", []):
            if isinstance(layer, dict) and "Ref" in layer:
                mounts[sam_template.parent / resources[layer["Ref"]]["Metadata"]["aws:asset:path"]] = "/opt"
    for source, target in mounts.items():
        if source.is_dir():
            docker_run = ["docker", "run", "--rm", "--platform", "linux/arm64", "--volume", f"{source.resolve()}:/src"]
            compileall = ["python3", "-m", "compileall", "-q", "-j", "0", "-s", "/src", "-p", target, "/src"]
            subprocess.run([*docker_run, "--entrypoint", compileall[0], BASE_IMAGE, *compileall[1:]], check=True)


def run(names: Sequence[str] | None, event: Path | None, template: Path = TEMPLATE) -> int:
    if not template.exists():
        raise SystemExit(f"error: no {template}: run `make synth` first")
    sam_template = write_emulator_template(template)
    env_vars = template.with_name(ENV_VARS_NAME)
    region = stack_region({})
    failures: list[str] = []
    with LocalAws() as aws, _forwarded(aws) as container_endpoint:
        started = time.monotonic()
        deploy_stack(aws.endpoint_url)
        print(f"deployed into the emulator ({aws.endpoint_url}) in {time.monotonic() - started:.1f} s", flush=True)
        functions = {short_name(function): function for function in function_environments(aws.endpoint_url).values()}
        write_env_vars(env_vars, dict(functions), container_endpoint)
        for name in sorted(set(known_functions(template)) - set(functions)) if names is None else []:
            print(f"== {name}: not deployed into the emulator (its resources need AWS), not invoked", flush=True)
        names = names or sorted(functions)
        for name in names:
            if name not in functions:
                raise SystemExit(f'error: no function "{name}" in the emulator; there: {", ".join(sorted(functions))}')
        started = time.monotonic()
        precompile_assets(sam_template, names)
        print(f"byte code compiled in {time.monotonic() - started:.1f} s", flush=True)
        for name in names:
            invocation = sam_invoke(name, event or EVENTS / f"{name}.json", region, sam_template, env_vars)
            problem = invocation.failure and f"the output says {invocation.failure!r}"
            if problem is None and name in EFFECTS:
                problem = EFFECTS[name](aws.endpoint_url, region, functions[name].environment)
            verdict = f"FAILED: {problem}" if problem else "ok"
            print(f"== {name}: {verdict} ({invocation.seconds:.1f} s)", flush=True)
            if problem:
                failures.append(name)
    return 1 if failures else 0


@contextlib.contextmanager
def _forwarded(aws: LocalAws) -> Iterator[str]:
    gateway = bridge_gateway()
    forwarder = BridgeForwarder(gateway, aws.port)
    try:
        yield f"http://{gateway}:{aws.port}"
    finally:
        forwarder.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="the function: agent_events, contact_events, enrichment, ...")
    parser.add_argument("--event", type=Path, help="the event (default: events/<name>.json)")
    parser.add_argument("--check", action="store_true", help="every function, each effect checked")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the synthesized template: %(default)s")
    args = parser.parse_args(argv)
    if not args.check and not args.name:
        parser.error("name a function, or --check")
    return run(None if args.check else [args.name], args.event, args.template)


if __name__ == "__main__":
    sys.exit(main())
