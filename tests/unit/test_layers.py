"""The layers of lambdas/connect_state: domain/ and service/ decide, adapters/ talk to AWS (README "layout")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
AWS_FREE = sorted(
    ".".join(path.relative_to(LAMBDAS).with_suffix("").parts)
    for layer in ("domain", "service")
    for path in (LAMBDAS / "connect_state" / layer).glob("*.py")
    if path.name != "__init__.py"
)


@pytest.mark.parametrize("module", AWS_FREE)
def test_domain_and_service_modules_load_no_aws_sdk(module: str) -> None:
    """Ports belong to the layer that uses them: importing a decision must not load boto3 or botocore."""
    probe = (
        f"import sys; sys.path.insert(0, {str(LAMBDAS)!r}); import {module}; "
        "print(sorted(name for name in ('boto3', 'botocore') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", f"{module} loads {result.stdout.strip()}"
