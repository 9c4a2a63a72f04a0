"""The attributes of the Lambda context object that Powertools reads: one definition, shared with the demo."""

from __future__ import annotations

from demo.lambda_shapes import FakeLambdaContext

__all__ = ["FakeLambdaContext"]
