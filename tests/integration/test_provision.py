"""Provisioning against a real MiniStack: the workshop template and a small SQS template.

The fixture starts its own emulator on a free 127.0.0.1 port with its state in a temporary
folder, so it never touches a learner's stack, and stops it by its pid.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop import registry as function_registry
from workshop.config import ACCOUNT_ID, REGION, REPO_ROOT, TEMPLATE_PATH, StackConfig, boto3_client
from workshop.provision import provision
from workshop.stack.processes import free_port

pytestmark = pytest.mark.live

EMULATOR_PYTHON = REPO_ROOT / ".venv-emulator" / "bin" / "python"
STARTUP_DEADLINE_S = 30.0

SQS_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Retries:
    Type: Number
    Default: 3
  ApiToken:
    Type: String
    NoEcho: true
    Default: token-from-template
Conditions:
  OnAws: !Equals [!Ref "AWS::AccountId", "123456789012"]
Globals:
  Function:
    Runtime: python3.13
    CodeUri: code
    Timeout: 20
Resources:
  OrdersDlq:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
  OrdersQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDlq.Arn
        maxReceiveCount: !Ref Retries
  IdempotencyTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-idempotency"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      TimeToLiveSpecification: {AttributeName: expiration, Enabled: true}
  QueueUrlParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /test/queue-url
      Type: String
      Value: !Ref OrdersQueue
  TokenParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /test/token
      Type: SecureString
      Value: !Ref ApiToken
  GeneratedSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"username": "shop"}'
        GenerateStringKey: password
        PasswordLength: 20
  FixedSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: test/fixed
      SecretString: fixed-secret-value-do-not-print
  AwsOnlyTopic:
    Type: AWS::SNS::Topic
  AlarmOnAws:
    Type: AWS::CloudWatch::Alarm
    Condition: OnAws
    Properties: {}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: order-worker
      Handler: worker.handler
      Environment:
        Variables:
          QUEUE_URL: !Ref OrdersQueue
          DLQ_ARN: !GetAtt OrdersDlq.Arn
          TABLE: !Ref IdempotencyTable
          SECRET_ARN: !Ref GeneratedSecret
          TOPIC: !Ref AwsOnlyTopic
          DEBUG: false
      Events:
        Orders:
          Type: SQS
          Properties:
            Queue: !GetAtt OrdersQueue.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 1
            FunctionResponseTypes: [ReportBatchItemFailures]
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
  ExtraMapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !GetAtt Worker.Arn
      EventSourceArn: !GetAtt OrdersDlq.Arn
      Enabled: false
"""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_ministack/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    """A private MiniStack; yields a StackConfig pointing at it."""
    if not EMULATOR_PYTHON.exists():
        pytest.fail(f"{EMULATOR_PYTHON} is missing: run `make env` first")
    root = tmp_path_factory.mktemp("ministack")
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "PERSIST_STATE": "0",
        "STATE_DIR": str(root / "emulator"),
    }
    with open(root / "ministack.log", "wb") as output:
        process = subprocess.Popen(
            [str(EMULATOR_PYTHON), "-m", "ministack"], cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    pid = process.pid
    config = StackConfig(state_dir=root / "state", emulator_port=port, runner_port=free_port(), host_port=free_port())
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while not _healthy(config.emulator_url):
            if process.poll() is not None:
                pytest.fail(
                    f"MiniStack exited with {process.returncode}: {(root / 'ministack.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"MiniStack not healthy after {STARTUP_DEADLINE_S}s on port {port}")
            time.sleep(0.1)
        yield config
    finally:
        if process.poll() is None:
            os.kill(pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                process.wait(timeout=5)


def test_workshop_template_provisions_and_registers_functions(
    emulator: StackConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="workshop.provision")
    registry = provision(emulator)

    ddb = boto3_client("dynamodb", emulator)
    tables = ddb.list_tables()["TableNames"]
    assert {"workshop-InventoryTable", "workshop-PaymentsTable"} <= set(tables)
    key = ddb.describe_table(TableName="workshop-InventoryTable")["Table"]["KeySchema"]
    assert key == [{"AttributeName": "sku", "KeyType": "HASH"}]

    ssm = boto3_client("ssm", emulator)
    # infra/local-parameters.json shortens the warehouse wait for local demos.
    local = json.loads((TEMPLATE_PATH.parent / "local-parameters.json").read_text())
    value = ssm.get_parameter(Name="/workshop/order-saga/warehouse-timeout-seconds")["Parameter"]["Value"]
    assert value == str(local["WarehouseTimeoutSeconds"])

    groups = {g["logGroupName"] for g in boto3_client("logs", emulator).describe_log_groups()["logGroups"]}
    assert {"/aws/lambda/order-saga", "/aws/lambda/payment", "/aws/lambda/warehouse"} <= groups

    saga = registry["functions"]["order-saga"]
    assert saga == {
        "logical_id": "OrderSagaFunction",
        "code_dir": str((REPO_ROOT / "services").resolve()),
        "handler": "order_saga.handler.lambda_handler",
        "runtime": "python3.13",
        "timeout": 30,
        "memory": 256,
        "environment": {
            "POWERTOOLS_SERVICE_NAME": "order-saga",
            "POWERTOOLS_METRICS_NAMESPACE": "Workshop",
            "INVENTORY_TABLE": "workshop-InventoryTable",
            "PAYMENTS_TABLE": "workshop-PaymentsTable",
            "PAYMENT_FUNCTION": "payment",
            "WAREHOUSE_FUNCTION": "warehouse",
            "WAREHOUSE_TIMEOUT_PARAM": "/workshop/order-saga/warehouse-timeout-seconds",
        },
        "durable": {"ExecutionTimeout": 172800, "RetentionPeriodInDays": 7},
        "aliases": ["live"],
        "tracing": "Active",
        "log_group": "/aws/lambda/order-saga",
        "log_format": "JSON",  # the template's LoggingConfig: AWS_LAMBDA_LOG_FORMAT
    }
    assert registry["functions"]["payment"]["durable"] is None
    assert registry["functions"]["payment"]["environment"]["PAYMENTS_TABLE"] == "workshop-PaymentsTable"
    assert registry["functions"]["warehouse"]["handler"] == "order_saga.warehouse.lambda_handler"
    [mapping] = registry["event_source_mappings"]  # the SQS ingest's queue -> ingest
    assert {k: mapping[k] for k in ("function", "batch_size", "report_batch_item_failures", "enabled")} == {
        "function": "ingest", "batch_size": 10, "report_batch_item_failures": True, "enabled": True,
    }  # fmt: skip
    assert mapping["queue_arn"].endswith(":workshop-IngestQueue")
    stored = function_registry.load(emulator)
    assert {name: {k: v for k, v in e.items() if k != "stack"} for name, e in stored["functions"].items()} == registry["functions"]
    assert {e["stack"] for e in stored["functions"].values()} == {"workshop"}
    assert stored["stacks"]["workshop"]["template"] == str(TEMPLATE_PATH)

    # A second run changes nothing and says so.
    caplog.clear()
    assert provision(emulator) == registry
    statuses = {line.split()[0] for line in caplog.messages}
    assert statuses <= {"exists", "local", "mapped", "skipped"}, caplog.messages
    assert not any("warning" in line for line in caplog.messages), "the workshop's own template runs whole locally"


def test_sqs_template_with_dlq_mapping_secrets_and_aws_only_resources(
    emulator: StackConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="workshop.provision")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "worker.py").write_text("def handler(event, context):\n    return event\n")
    template = tmp_path / "template.yaml"
    template.write_text(SQS_TEMPLATE)
    config = StackConfig(
        state_dir=tmp_path / "state",
        emulator_port=emulator.emulator_port,
        runner_port=emulator.runner_port,
        host_port=emulator.host_port,
    )

    registry = provision(config, template, parameter_overrides={"ApiToken": "token-from-override"})

    sqs = boto3_client("sqs", config)
    dlq_url = sqs.get_queue_url(QueueName="workshop-OrdersDlq")["QueueUrl"]
    queue_url = sqs.get_queue_url(QueueName="workshop-OrdersQueue")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "120"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn == f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:workshop-OrdersDlq"
    assert int(redrive["maxReceiveCount"]) == 3

    ddb = boto3_client("dynamodb", config)
    ttl = ddb.describe_time_to_live(TableName="workshop-idempotency")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] in ("ENABLED", "ENABLING") and ttl["AttributeName"] == "expiration"

    ssm = boto3_client("ssm", config)
    assert ssm.get_parameter(Name="/test/queue-url")["Parameter"]["Value"] == queue_url
    token = ssm.get_parameter(Name="/test/token", WithDecryption=True)["Parameter"]
    assert (token["Type"], token["Value"]) == ("SecureString", "token-from-override")

    sm = boto3_client("secretsmanager", config)
    generated = json.loads(sm.get_secret_value(SecretId="workshop-GeneratedSecret")["SecretString"])
    assert generated["username"] == "shop" and len(generated["password"]) == 20
    assert sm.get_secret_value(SecretId="test/fixed")["SecretString"] == "fixed-secret-value-do-not-print"

    worker = registry["functions"]["order-worker"]
    environment = worker["environment"]
    assert environment["QUEUE_URL"] == queue_url
    assert environment["DLQ_ARN"] == dlq_arn
    assert environment["TABLE"] == "workshop-idempotency"
    assert environment["SECRET_ARN"].startswith(
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:workshop-GeneratedSecret"
    )
    assert "not provisioned locally" in environment["TOPIC"]
    assert environment["DEBUG"] == "false"
    assert worker["code_dir"] == str((tmp_path / "code").resolve())
    assert (worker["timeout"], worker["memory"], worker["tracing"], worker["aliases"]) == (20, 128, "PassThrough", [])

    queue_arn = attributes["QueueArn"]
    mappings = sorted(registry["event_source_mappings"], key=lambda m: not m["enabled"])  # the enabled one first
    assert [(m["queue_arn"], m["enabled"]) for m in mappings] == [(queue_arn, True), (dlq_arn, False)]
    main = mappings[0]
    assert main == {
        "uuid": main["uuid"],
        "function": "order-worker",
        "queue_url": queue_url,
        "queue_arn": queue_arn,
        "batch_size": 5,
        "maximum_batching_window": 1,
        "report_batch_item_failures": True,
        "enabled": True,
    }
    assert mappings[1]["function"] == "order-worker" and mappings[1]["report_batch_item_failures"] is False

    notices = "\n".join(caplog.messages)
    assert "AwsOnlyTopic" in notices and "not emulated locally" in notices
    assert "AlarmOnAws" in notices and "condition OnAws is false" in notices
    assert "(Type Schedule) is not delivered locally" in notices

    # Second run: same registry (stable mapping uuids), generated secret kept, nothing recreated.
    caplog.clear()
    password = generated["password"]
    assert provision(config, template, parameter_overrides={"ApiToken": "token-from-override"}) == registry
    again = json.loads(sm.get_secret_value(SecretId="workshop-GeneratedSecret")["SecretString"])
    assert again["password"] == password
    assert not any(line.startswith(("created", "updated")) for line in caplog.messages), caplog.messages

    # A changed template value is applied, as a CloudFormation update would.
    caplog.clear()
    provision(config, template, parameter_overrides={"ApiToken": "rotated", "Retries": 5})
    assert ssm.get_parameter(Name="/test/token", WithDecryption=True)["Parameter"]["Value"] == "rotated"
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    assert int(redrive["maxReceiveCount"]) == 5
    assert any(line.startswith("updated") and "OrdersQueue" in line for line in caplog.messages)

    # Secret values never reach the log or the console.
    shown = "\n".join(caplog.messages) + capsys.readouterr().out + json.dumps(function_registry.load(config))
    for secret in (password, "fixed-secret-value-do-not-print", "token-from-override", "rotated"):
        assert secret not in shown
