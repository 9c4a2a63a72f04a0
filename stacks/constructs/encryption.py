"""Encryption choices more than one construct makes: kmsKeyArn's key when it is set, else an AWS-managed one."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms


def table_encryption(key: kms.IKey | None) -> dynamodb.TableEncryptionV2:
    """The customer key when kmsKeyArn is set, else an AWS-managed key: every table of the stack is encrypted."""
    return dynamodb.TableEncryptionV2.customer_managed_key(key) if key else dynamodb.TableEncryptionV2.aws_managed_key()
