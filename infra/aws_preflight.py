"""`make deploy` / `make destroy` check first that there is an AWS account to talk to.

Run with the SAM CLI's environment (.venv-sam, which has boto3). Exits non-zero
with a plain message, before SAM prompts for anything, when no credentials or no
region are configured or the credentials are refused.
"""

from __future__ import annotations

import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def main(action: str) -> int:
    what = "deploys infra/template.yaml to" if action == "deploy" else "deletes the deployed stack from"
    session = boto3.Session()
    if session.get_credentials() is None:
        print(
            f"make {action} {what} your own AWS account, and no AWS credentials were found.\n"
            "Configure them first: `aws configure`, `aws sso login --profile NAME` with AWS_PROFILE=NAME,\n"
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Nothing was changed. (The local stack needs none: make demo.)",
            file=sys.stderr,
        )
        return 1
    if not session.region_name:
        print(f"make {action}: no AWS region is set. Set one, e.g. AWS_DEFAULT_REGION=us-east-1 make {action}, or `region` in your AWS profile. Nothing was changed.", file=sys.stderr)
        return 1
    try:
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        print(f"make {action}: the AWS credentials were refused or AWS cannot be reached: {error}. Nothing was changed.", file=sys.stderr)
        return 1
    print(f"make {action}: account {identity['Account']} as {identity['Arn']}, region {session.region_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "deploy"))
