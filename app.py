#!/usr/bin/env python3
"""CDK entry point: `make synth` / `make deploy` (cdk.json context, -c key=value, -c object.key=value)."""

import sys

import aws_cdk as cdk

from stacks.app_factory import build_app
from stacks.config import ConfigError


def main() -> None:
    app = cdk.App()
    try:
        build_app(app)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
