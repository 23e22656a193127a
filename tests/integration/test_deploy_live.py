"""`workshop deploy`: a template and handlers of the user's own, in a folder outside the repository.

What a serverless engineer does after the labs: write a SAM template beside their
code, deploy it into the local stack, call it with the same boto3 calls as on AWS,
restart the stack, and delete it. Every warning of "tell, never drop" and every
refusal ("nothing half-registered") is checked here against a real emulator.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_config, running_stack
from tests.integration.polling import finished, result_of, wait_for
from workshop import registry as function_registry
from workshop.cli import main as workshop_main
from workshop.config import REPO_ROOT, StackConfig, boto3_client
from workshop.deploy import DeployError, delete, deploy, list_stacks

pytestmark = pytest.mark.live

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.13
    CodeUri: src
    Timeout: 30
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
  Notes:
    Type: AWS::Serverless::SimpleTable
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {prefix}-greeter
      Handler: app.handler
      AutoPublishAlias: live
      Layers: [!Ref Shared]
      DurableConfig: {{ExecutionTimeout: 300, RetentionPeriodInDays: 1}}
      Environment:
        Variables:
          GREETING: !Ref Greeting
          NOTES_TABLE: !Ref Notes
          CHILD: !Ref Child
  Child:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {prefix}-child
      Handler: child.handler
"""

APP = '''\
"""A durable function of the user's own: a step using a layer's module, then a chained invoke."""
import os

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from shout import shout


@durable_execution
def handler(event, context: DurableContext):
    word = context.step(lambda _: shout(os.environ["GREETING"]), name="greet")
    child = context.invoke(os.environ["CHILD"], {"word": word}, name="call-child")
    return {"word": word, "child": child, "table": os.environ["NOTES_TABLE"]}
'''


def write_app(folder: Path, prefix: str) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "layer" / "python").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(APP)
    (folder / "src" / "child.py").write_text("def handler(event, context):\n    return {'echo': event['word'] * 2}\n")
    (folder / "layer" / "python" / "shout.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    template = folder / "template.yaml"
    template.write_text(TEMPLATE.format(prefix=prefix))
    return template


def started(lam: Any, function: str, payload: dict[str, Any]) -> str:
    response = lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    return response["DurableExecutionArn"]


def test_own_template_deploys_runs_survives_a_restart_and_is_deleted(tmp_path: Path) -> None:
    folder = tmp_path / "my-app"  # pytest's tmp_path is outside the repository
    assert not folder.is_relative_to(REPO_ROOT)
    template = write_app(folder, "own")
    with running_stack(make_config(tmp_path / "state")) as config:
        stack = deploy(config, template, parameter_overrides={"Greeting": "hi"})
        assert (stack.name, stack.functions, stack.warnings) == ("my-app", ["own-child", "own-greeter"], [])
        lam = boto3_client("lambda", config)

        # The same calls as on AWS: a synchronous invoke of the alias, then an asynchronous one.
        response = lam.invoke(FunctionName="own-greeter:live", Payload=b"{}")
        assert "FunctionError" not in response, response["Payload"].read()
        answer = json.loads(response["Payload"].read())
        assert answer == {"word": "HI!", "child": {"echo": "HI!HI!"}, "table": "my-app-Notes"}
        arn = started(lam, "own-greeter:live", {})
        assert result_of(finished(lam, arn))["child"] == {"echo": "HI!HI!"}
        listed = lam.list_durable_executions_by_function(FunctionName="own-greeter")["DurableExecutions"]
        assert arn in {e["DurableExecutionArn"] for e in listed}
        assert "my-app-Notes" in boto3_client("dynamodb", config).list_tables()["TableNames"]

        # make down && make up: the stack is deployed again from its file, with its overrides.
        (folder / "src" / "child.py").write_text("def handler(event, context):\n    return {'echo': event['word'] * 3}\n")
        from workshop import stack as lifecycle

        lifecycle.down(config, say=lambda line: None)
        lifecycle.up(config, say=lambda line: None)
        again = json.loads(lam.invoke(FunctionName="own-greeter:live", Payload=b"{}")["Payload"].read())
        assert again["child"] == {"echo": "HI!HI!HI!"}, "re-read from the files after the restart"
        assert [s.name for s in list_stacks(config)] == ["workshop", "my-app"]

        # workshop delete: functions, mappings, tables gone; the workshop's own stack untouched.
        delete(config, "my-app")
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="own-greeter:live", Payload=b"{}")
        assert "my-app-Notes" not in boto3_client("dynamodb", config).list_tables()["TableNames"]
        assert [s.name for s in list_stacks(config)] == ["workshop"]
        assert "order-saga" in function_registry.load(config)["functions"]
        lifecycle.down(config, say=lambda line: None)
        lifecycle.up(config, say=lambda line: None)
        assert "own-greeter" not in function_registry.load(config)["functions"], "a deleted stack stays deleted"


@pytest.fixture(scope="module")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_stack(make_config(tmp_path_factory.mktemp("deploy-state"))) as config:
        yield config


def deploy_text(config: StackConfig, folder: Path, template_text: str, files: dict[str, str], name: str) -> Any:
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    (folder / "template.yaml").write_text(textwrap.dedent(template_text))
    return deploy(config, folder / "template.yaml", name)


HANDLER = {"src/h.py": "def handler(event, context):\n    return event\n"}


def test_every_ignored_setting_gets_one_warning_line(stack_config: StackConfig, tmp_path: Path) -> None:
    stack = deploy_text(
        stack_config, tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Bare:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: bare}
          Topic:
            Type: AWS::SNS::Topic
          Plain:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: warn-plain
              CodeUri: src
              Handler: h.handler
              Runtime: python3.13
              Layers: [!Ref Bare, "arn:aws:lambda:us-east-1:111111111111:layer:elsewhere:3"]
              ReservedConcurrentExecutions: 1
              DeadLetterQueue: {Type: SNS, TargetArn: !Ref Topic}
              Environment: {Variables: {AWS_LAMBDA_EXEC_WRAPPER: /opt/wrapper}}
              Events:
                Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
          Node:
            Type: AWS::Serverless::Function
            Properties: {FunctionName: warn-node, CodeUri: src, Handler: h.handler, Runtime: nodejs22.x}
          Image:
            Type: AWS::Serverless::Function
            Properties: {FunctionName: warn-image, PackageType: Image, ImageUri: 111111111111.dkr.ecr.us-east-1.amazonaws.com/app:1}
        """, {**HANDLER, "bare/readme.txt": "no python/ folder"}, "warnings",
    )  # fmt: skip
    assert stack.functions == ["warn-plain"]
    expected = [
        "Plain: event Nightly (Type Schedule) is not delivered locally (only SQS is); ignored",
        "Topic: AWS::SNS::Topic is not emulated locally; ignored (it is deployed on AWS only)",
        "warn-node: Runtime nodejs22.x does not run locally (only Python does); not registered",
        "warn-image: a container image function does not run locally; not registered",
        "has no python/ folder",
        "warn-plain: AWS_LAMBDA_EXEC_WRAPPER=/opt/wrapper is ignored locally",
        "warn-plain: layer arn:aws:lambda:us-east-1:111111111111:layer:elsewhere:3 cannot be resolved locally",
        "warn-plain: ReservedConcurrentExecutions not implemented locally; ignored",
        "warn-plain: DeadLetterConfig target",
    ]
    for fragment in expected:
        assert sum(fragment in line for line in stack.warnings) == 1, (fragment, stack.warnings)
    assert len(stack.warnings) == len(expected), stack.warnings
    entry = function_registry.load(stack_config)["functions"]["warn-plain"]
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in entry["environment"] and "python_path" not in entry
    assert not {"warn-node", "warn-image"} & set(function_registry.load(stack_config)["functions"])


@pytest.mark.parametrize(
    ("template_text", "files", "expected"),
    [
        ("Resources: {F: [unclosed", {}, "does not parse as YAML"),
        (
            """\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              F: {Type: AWS::Serverless::Function, Properties: {FunctionName: bad-missing, CodeUri: src, Handler: nothere.handler, Runtime: python3.13}}
            """,
            HANDLER, "Handler 'nothere.handler': no module nothere.py",
        ),
        (
            """\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              F: {Type: AWS::Serverless::Function, Properties: {FunctionName: bad-nocode, Handler: h.handler, Runtime: python3.13}}
            """,
            {}, "SAM cannot translate the template",
        ),
        (
            """\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              T: {Type: AWS::SQS::Queue}
              F: {Type: AWS::Serverless::Function, Properties: {FunctionName: order-saga, CodeUri: src, Handler: h.handler, Runtime: python3.13}}
            """,
            HANDLER, "function name 'order-saga' is already deployed by stack workshop",
        ),
    ],
    ids=["parse-error", "missing-handler", "sam-error", "name-clash"],
)  # fmt: skip
def test_a_template_that_cannot_run_registers_nothing(
    stack_config: StackConfig, tmp_path: Path, template_text: str, files: dict[str, str], expected: str
) -> None:
    before = function_registry.load(stack_config)
    with pytest.raises(DeployError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        deploy_text(stack_config, tmp_path, template_text, files, "refused")
    after = function_registry.load(stack_config)
    assert after["functions"] == before["functions"] and "refused" not in after.get("stacks", {})
    assert not any("refused-T" in url for url in boto3_client("sqs", stack_config).list_queues().get("QueueUrls", []))


def test_a_failed_event_invoke_is_retried_then_sent_to_its_dead_letter_queue(stack_config: StackConfig, tmp_path: Path) -> None:
    deploy_text(
        stack_config, tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Dlq: {Type: AWS::SQS::Queue}
          Failing:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: always-fails
              CodeUri: src
              Handler: h.handler
              Runtime: python3.13
              DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dlq.Arn}
        """, {"src/h.py": "def handler(event, context):\n    raise ValueError('no stock for ' + event['sku'])\n"}, "dlq",
    )  # fmt: skip
    lam, sqs = boto3_client("lambda", stack_config), boto3_client("sqs", stack_config)
    assert lam.invoke(FunctionName="always-fails", InvocationType="Event", Payload=b'{"sku": "s-1"}')["StatusCode"] == 202
    url = sqs.get_queue_url(QueueName="dlq-Dlq")["QueueUrl"]

    def dead_letter() -> Any:
        return sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1).get("Messages")

    [message] = wait_for(dead_letter, "the failed event in the dead-letter queue", deadline_s=30)
    assert json.loads(message["Body"]) == {"sku": "s-1"}
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "no stock for s-1"
    from workshop.inspect import Services

    invocations = Services(stack_config).invocations(function="always-fails")  # the function host's index of runs
    assert len(invocations) == 3, "the first attempt and Lambda's two retries"


def test_cli_deploy_stacks_and_delete(stack_config: StackConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cli-app"
    template = write_app(folder, "cli")
    from workshop.inspect import Services

    services = Services(stack_config)
    assert workshop_main(["deploy", str(template), "--parameter-overrides", "Greeting=yo"], services=services) == 0
    shown = capsys.readouterr().out
    assert "deployed stack cli-app" in " ".join(shown.split()) and "cli-greeter" in shown
    assert workshop_main(["stacks"], services=services) == 0
    assert "cli-app" in capsys.readouterr().out
    assert workshop_main(["deploy", str(template), "--parameter-overrides", "novalue"], services=services) == 2
    assert workshop_main(["delete", "cli-app", "--keep-data"], services=services) == 0
    assert "cli-app-Notes" in boto3_client("dynamodb", stack_config).list_tables()["TableNames"]
    assert workshop_main(["delete", "cli-app"], services=services) == 1  # already gone: said, exit 1
    assert "no stack 'cli-app' is deployed" in " ".join(capsys.readouterr().err.split())
    assert workshop_main(["delete", "workshop"], services=services) == 1


def test_the_readmes_example_app_runs_from_a_copy_outside_the_repository(stack_config: StackConfig, tmp_path: Path) -> None:
    """README, "Run your own durable functions locally": copy, deploy, invoke, answer the callback, delete."""
    import shutil

    folder = shutil.copytree(REPO_ROOT / "examples" / "my-durable-app", tmp_path / "my-app")
    stack = deploy(stack_config, folder / "template.yaml")
    assert (stack.name, stack.functions, stack.warnings) == ("my-app", ["my-requests"], [])
    lam = boto3_client("lambda", stack_config)
    arn = started(lam, "my-requests:live", {"request_id": "r-1", "amount": 42})

    callback = wait_for(lambda: callback_id(lam, arn), "the example to wait on its callback", deadline_s=30)
    lam.send_durable_execution_callback_success(CallbackId=callback, Result=json.dumps({"approved": True, "by": "ana"}).encode())
    assert result_of(finished(lam, arn)) == {"request_id": "r-1", "amount": 42.0, "approved": True, "by": "ana"}
    delete(stack_config, "my-app")


def callback_id(lam: Any, arn: str) -> str | None:
    """The id of the execution's first callback, once the history has it."""
    events = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    started_events = [e for e in events if e.get("EventType") == "CallbackStarted"]
    return started_events[0]["CallbackStartedDetails"]["CallbackId"] if started_events else None


def test_the_example_apps_log_line_reaches_the_functions_log(stack_config: StackConfig, tmp_path: Path) -> None:
    """Issue 22: its `context.logger.info("waiting for an answer", ...)` was dropped (root logger at WARNING).

    The line is what a person needs to answer: it carries the callback id. It is
    read back where `workshop logs` and `workshop timeline` read it, the
    function's log group, once the invocation that suspended on the callback ends.
    """
    import shutil

    folder = shutil.copytree(REPO_ROOT / "examples" / "my-durable-app", tmp_path / "my-app")
    deploy(stack_config, folder / "template.yaml")
    lam = boto3_client("lambda", stack_config)
    arn = started(lam, "my-requests:live", {"request_id": "r-2", "amount": 7})
    callback = wait_for(lambda: callback_id(lam, arn), "the example to wait on its callback", deadline_s=30)
    group = function_registry.function(stack_config, "my-requests")["log_group"]
    logs = boto3_client("logs", stack_config)

    def waiting_line() -> str | None:
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
            for event in page["events"]:
                if "waiting for an answer" in event["message"] and callback in event["message"]:
                    return str(event["message"])
        return None

    try:
        line = wait_for(waiting_line, "the example's 'waiting for an answer' line in its log group", deadline_s=30)
        assert arn in line and "r-2" in line, line  # the SDK's executionArn and the handler's extra keys
    finally:
        lam.send_durable_execution_callback_success(CallbackId=callback, Result=b"{}")
        finished(lam, arn)
        delete(stack_config, "my-app")


def test_a_deployed_sqs_event_is_polled_and_delivered(stack_config: StackConfig, tmp_path: Path) -> None:
    deploy_text(
        stack_config, tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Inbox: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: 30}}
          Seen: {Type: AWS::Serverless::SimpleTable, Properties: {PrimaryKey: {Name: body, Type: String}}}
          Reader:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: inbox-reader
              CodeUri: src
              Handler: h.handler
              Runtime: python3.13
              Timeout: 10
              Environment: {Variables: {SEEN: !Ref Seen}}
              Events:
                Inbox: {Type: SQS, Properties: {Queue: !GetAtt Inbox.Arn, BatchSize: 5}}
        """, {"src/h.py": (
            "import os, boto3\n"
            "def handler(event, context):\n"
            "    table = boto3.client('dynamodb')\n"
            "    for record in event['Records']:\n"
            "        table.put_item(TableName=os.environ['SEEN'], Item={'body': {'S': record['body']}})\n"
        )}, "inbox",
    )  # fmt: skip
    [mapping] = [m for m in function_registry.load(stack_config)["event_source_mappings"] if m["function"] == "inbox-reader"]
    assert (mapping["stack"], mapping["batch_size"]) == ("inbox", 5)
    sqs, ddb = boto3_client("sqs", stack_config), boto3_client("dynamodb", stack_config)
    sqs.send_message(QueueUrl=mapping["queue_url"], MessageBody="hello-from-my-queue")
    wait_for(
        lambda: ddb.get_item(TableName="inbox-Seen", Key={"body": {"S": "hello-from-my-queue"}}).get("Item"),
        "the deployed function to read the message from its queue", deadline_s=30,
    )  # fmt: skip
    delete(stack_config, "inbox")
    assert not [m for m in function_registry.load(stack_config)["event_source_mappings"] if m["function"] == "inbox-reader"]


def test_logging_configs_application_log_level_reaches_the_root_logger(stack_config: StackConfig, tmp_path: Path) -> None:
    """LoggingConfig {LogFormat: JSON, ApplicationLogLevel: INFO}: a plain `logging.info` is written, as on AWS.

    Lambda's Python runtime sets the root logger's level from AWS_LAMBDA_LOG_LEVEL;
    the host used to drop the property, so the line never reached the log group.
    """
    deploy_text(
        stack_config, tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Chatty:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: chatty
              CodeUri: src
              Handler: h.handler
              Runtime: python3.13
              LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}
        """, {"src/h.py": (
            "import logging\n"
            "def handler(event, context):\n"
            "    logging.getLogger('chatty').info('told at info', extra={'word': event['word']})\n"
            "    logging.getLogger('chatty').debug('told at debug')\n"
            "    return 'ok'\n"
        )}, "chatty",
    )  # fmt: skip
    lam = boto3_client("lambda", stack_config)
    response = lam.invoke(FunctionName="chatty", Payload=json.dumps({"word": "hello"}).encode())
    assert json.loads(response["Payload"].read()) == "ok"
    group = function_registry.function(stack_config, "chatty")["log_group"]
    logs = boto3_client("logs", stack_config)

    def told() -> list[dict[str, Any]]:
        events = logs.filter_log_events(logGroupName=group)["events"]
        return [json.loads(e["message"]) for e in events if e["message"].startswith("{") and "told at" in e["message"]]

    try:
        [line] = wait_for(told, "the handler's info line in its log group", deadline_s=30)
        assert (line["level"], line["message"], line["logger"], line["word"]) == ("INFO", "told at info", "chatty", "hello")
        assert line["requestId"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    finally:
        delete(stack_config, "chatty")
