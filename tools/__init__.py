"""The project's own tooling around the CDK CLI and SAM CLI: `make bootstrap/deploy/diff/destroy/invoke`."""
