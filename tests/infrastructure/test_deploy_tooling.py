"""What a user types: the CDK CLI in the repo, `make synth CDK_ARGS=...`, `sam local invoke` and `make invoke` on the
synthesized template, and what `make destroy` leaves behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.conftest import synth
from tools import sam_template, teardown

# The CLI's synth is shared by the tests that read it (one worker); the in-process synth by the "cdk" group's tests.
# Tests that run the CDK CLI, SAM, make or pytest in a process are marked slow (not in make test-fast).
cli = pytest.mark.xdist_group("cli")
ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SAM_PYTHON = ROOT / ".tools" / "uv" / "aws-sam-cli" / "bin" / "python"
TEMPLATE_NAME = "ConnectRealtimeState.template.json"


def user_environment() -> dict[str, str]:
    """A shell in the repo as the README's reader has it: node and a python3 on PATH, the project's .venv not."""
    venv_bin = str(ROOT / ".venv" / "bin")
    path = [entry for entry in os.environ["PATH"].split(os.pathsep) if entry and Path(entry) != Path(venv_bin)]
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    environment.update({"PATH": os.pathsep.join(path), "CDK_DISABLE_CLI_TELEMETRY": "true"})
    environment.pop("VIRTUAL_ENV", None)
    return environment


def run_as_user(
    command: list[str], *, environment: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """`command` typed in the repo by that user (`user_environment()` unless given); its output kept, not checked."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment or user_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`npx cdk synth` typed in the repo, into a directory of its own (not the checkout's cdk.out)."""
    out = tmp_path_factory.mktemp("cdk-out")
    result = run_as_user(["npx", "--no-install", "cdk", "synth", "--quiet", "-o", str(out)])
    return result, out


@pytest.mark.slow
@cli
def test_the_cdk_cli_runs_the_app_with_the_projects_environment(
    cli_synth: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    # Given a PATH whose python3 is not the project's (the README's `npx cdk bootstrap` failed: No module 'aws_cdk')
    assert shutil.which("python3", path=user_environment()["PATH"]) != str(ROOT / ".venv" / "bin" / "python3")
    # When the user runs the CDK CLI in the repo, Then the app synthesizes
    result, out = cli_synth
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / TEMPLATE_NAME).exists()


@pytest.mark.slow
def test_make_synth_passes_cdk_args_to_the_app(tmp_path: Path) -> None:
    # A bad value given on the command line must reach the app and fail the synth, as it would fail the deploy
    bad = "arn:aws:connect:eu-west-2:1234:instance/abc"
    result = run_as_user(
        ["make", "--no-print-directory", "synth", f"CDK_ARGS=-o {tmp_path} -c connectInstanceArn={bad}"]
    )
    assert result.returncode != 0
    assert 'error: cdk.json context "connectInstanceArn"' in result.stderr
    assert bad in result.stderr


# --- sam local invoke ------------------------------------------------------------------------------------------------

# What `sam local invoke <id> -t <template>` does before it starts a container (InvokeContext and LocalLambdaRunner):
# the stacks from SamLocalStackProvider, the function from SamFunctionProvider.get(id); then its code and layer. SAM's
# warnings (logged while it reads a template) are collected per template.
RESOLVE = """
import json, logging, sys
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

class Collect(logging.Handler):
    def emit(self, record):
        self.records.append(record.getMessage())

collect = Collect(logging.WARNING)
logging.getLogger("samcli").addHandler(collect)
logging.getLogger("samcli").propagate = False
answer = {}
for template, identifiers in json.loads(sys.argv[1]).items():
    collect.records = []
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    provider = SamFunctionProvider(stacks)
    found = {}
    for identifier in identifiers:
        function = provider.get(identifier)
        found[identifier] = None if function is None else {
            "handler": function.handler, "runtime": function.runtime, "architectures": function.architectures,
            "code": function.codeuri, "layers": [layer.codeuri for layer in function.layers],
        }
    answer[template] = {"functions": found, "warnings": collect.records}
print(json.dumps(answer))
"""


def readme_invocations() -> list[tuple[str, str]]:
    """The README's `sam local invoke <id> -t cdk.out/<template>` commands: (id, template file name)."""
    return re.findall(r"sam local invoke (\S+) -t cdk\.out/(\S+)", README)


@pytest.fixture(scope="module")
def sam_resolution(cli_synth: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, dict[str, Any]]:
    """Per template file name: what SAM CLI resolves for the README's commands and `make invoke`, and its warnings."""
    result, out = cli_synth
    assert result.returncode == 0, result.stderr[-2000:]
    template = out / TEMPLATE_NAME
    sam_copy = sam_template.write_sam_template(template)
    wanted: dict[str, list[str]] = {str(sam_copy): list(sam_template.functions(template))}
    for identifier, name in readme_invocations():
        wanted.setdefault(str(out / name), []).append(identifier)
    if not SAM_PYTHON.exists():
        pytest.skip(f"SAM CLI is not installed in {SAM_PYTHON.parents[2]} (make test installs it)")
    resolved = subprocess.run(
        [str(SAM_PYTHON), "-c", RESOLVE, json.dumps(wanted)],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return {Path(path).name: answer for path, answer in json.loads(resolved.stdout).items()}


@pytest.mark.slow
@cli
def test_every_function_resolves_as_sam_local_invoke_resolves_it(
    cli_synth: tuple[subprocess.CompletedProcess[str], Path], sam_resolution: dict[str, dict[str, Any]]
) -> None:
    functions = sam_template.functions(cli_synth[1] / TEMPLATE_NAME)
    assert set(functions) == {path.stem for path in (ROOT / "events").glob("*.json")}
    sam_copy = sam_template.sam_template_path(cli_synth[1] / TEMPLATE_NAME).name
    # The README's commands name both templates: `make invoke`'s copy and the CDK template
    assert {name for _, name in readme_invocations()} == {TEMPLATE_NAME, sam_copy}
    assert set(sam_resolution) == {TEMPLATE_NAME, sam_copy}

    unresolved = [
        (name, identifier)
        for name, answer in sam_resolution.items()
        for identifier, function in answer["functions"].items()
        if function is None
    ]
    assert unresolved == []
    # `make invoke FUNCTION=<name>`: each function by its short name, with its code and layer on disk
    for name in functions:
        function = sam_resolution[sam_copy]["functions"][name]
        assert function["handler"] == f"connect_state.handlers.{name}.lambda_handler"
        assert (function["runtime"], function["architectures"]) == ("python3.13", ["arm64"])
        assert (Path(function["code"]) / "connect_state" / "handlers" / f"{name}.py").exists()
        (layer,) = function["layers"]
        assert (Path(layer) / "python" / "aws_lambda_powertools").is_dir()


@pytest.mark.slow
@cli
def test_sam_reads_the_copy_without_a_warning_per_resource(sam_resolution: dict[str, dict[str, Any]]) -> None:
    # On the CDK template SAM warns for every resource whose construct path it cannot use; on the copy, never
    assert any("Cannot detect function id" in w for w in sam_resolution[TEMPLATE_NAME]["warnings"])
    assert sam_resolution["ConnectRealtimeState.sam.json"]["warnings"] == []


@pytest.mark.slow
@cli
def test_make_invoke_names_the_functions_when_the_name_is_wrong(
    cli_synth: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    template = cli_synth[1] / TEMPLATE_NAME
    with pytest.raises(SystemExit) as raised:
        sam_template.main(["agent_event", "--template", str(template)])
    assert (
        str(raised.value)
        == 'error: no function "agent_event": the functions are agent_events, board_changes, board_snapshot, '
        "contact_events, enrichment"
    )


# --- teardown --------------------------------------------------------------------------------------------------------


def retained(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("DeletionPolicy") in teardown.RETAINING_POLICIES
    }


def teardown_section() -> str:
    return re.split(r"\n##+ ", README.split("\n### Teardown\n", 1)[1], maxsplit=1)[0]


@pytest.mark.xdist_group("cdk")
@pytest.mark.parametrize(
    "context",
    [
        {},  # the stack creates the agent event stream
        {"agentEventStreamArn": "arn:aws:kinesis:eu-west-2:111122223333:stream/connect-agent-events"},
    ],
    ids=["created-stream", "own-stream"],
)
def test_everything_the_stack_leaves_behind_is_named_with_its_removal_command(context: dict[str, str]) -> None:
    _, template = synth(**context)
    kept = retained(template.to_json())
    assert kept  # the state tables at least
    section = teardown_section().lower()
    for logical_id, resource in kept.items():
        kind = teardown.KINDS.get(resource["Type"])
        assert kind is not None, f"{logical_id}: tools.teardown has no removal command for {resource['Type']}"
        assert kind.noun.lower() in section, f"README Teardown does not name what stays: {kind.noun}"
        label = teardown.label(resource.get("Metadata", {}).get("aws:cdk:path", logical_id))
        words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label.rsplit("/", 1)[-1]).lower()
        assert words in section, f"README Teardown does not name {label} ({words!r})"


@pytest.mark.xdist_group("cdk")
def test_the_created_agent_event_stream_is_deleted_with_the_stack() -> None:
    # An on-demand stream bills by the hour, and nothing reads it once the stack is gone
    _, template = synth()
    (stream,) = [r for r in template.to_json()["Resources"].values() if r["Type"] == "AWS::Kinesis::Stream"]
    assert stream["DeletionPolicy"] == "Delete"
    assert "stream" in teardown_section()


# --- what make test prints -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_make_test_runs_pytest_without_xdist_status_lines(tmp_path: Path) -> None:
    # Given the options make test and make test-fast run pytest with, on two trivial tests (output not a terminal)
    (recipe,) = re.findall(r"^PYTEST := \$\(BIN\)/python -m pytest (.*)$", (ROOT / "Makefile").read_text(), re.M)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_two.py").write_text("def test_one():\n    pass\n\n\ndef test_two():\n    pass\n")
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "pytest",
            *recipe.split(),
            "-c",
            str(tmp_path / "pytest.ini"),
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Then every line is pytest's own: no "bringing up nodes..."
    assert next(line for line in result.stdout.splitlines() if line.strip()).startswith("..")
    assert "bringing up nodes" not in result.stdout + result.stderr


@pytest.mark.slow
def test_the_sam_cli_is_installed_inside_the_project_whatever_uv_is_told(tmp_path: Path) -> None:
    # Given a user whose uv installs tools elsewhere (UV_TOOL_DIR, UV_TOOL_BIN_DIR), When make installs the SAM CLI
    tools, elsewhere = tmp_path / "tools", tmp_path / "elsewhere"
    environment = {**user_environment(), "UV_TOOL_DIR": str(elsewhere), "UV_TOOL_BIN_DIR": str(elsewhere / "bin")}
    result = run_as_user(
        ["make", "--no-print-directory", f"TOOLS={tools}", f"{tools}/bin/sam"], environment=environment, timeout=600
    )
    assert result.returncode == 0, result.stderr
    # Then it is in the project's tool directory, and runs from there; nothing went elsewhere
    version = subprocess.run([str(tools / "bin" / "sam"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("SAM CLI, version 1.170.0")
    assert not elsewhere.exists()
    # And `make clean` removes that directory
    clean = subprocess.run(["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert re.search(r"^rm -rf .* \.tools( |$)", clean.stdout, re.M)
