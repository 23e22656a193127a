"""The provisioner's CloudFormation reading, without an emulator: tags, intrinsics, Globals,
parameters, ordering and the local GenerateSecretString."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
import yaml

from workshop.provision import (
    NO_VALUE,
    Resolver,
    TemplateError,
    TemplateLoader,
    creation_order,
    generate_secret_string,
    load_template,
    resolve_parameters,
)


def _load(text: str) -> object:
    return yaml.load(text, Loader=TemplateLoader)


def test_short_tags_become_long_forms() -> None:
    doc = _load(
        """
        a: !Ref Thing
        b: !GetAtt Queue.Arn
        c: !Sub "${AWS::Region}-x"
        d: !Sub ["${A}-${B}", {A: 1, B: !Ref P}]
        e: !Join [",", [a, !Ref P]]
        f: !Select [1, !Split [",", "x,y"]]
        g: !If [Cond, yes, !Ref AWS::NoValue]
        h: !GetAtt [Db, Endpoint.Address]
        i: 2010-09-09
        """
    )
    assert doc == {
        "a": {"Ref": "Thing"},
        "b": {"Fn::GetAtt": ["Queue", "Arn"]},
        "c": {"Fn::Sub": "${AWS::Region}-x"},
        "d": {"Fn::Sub": ["${A}-${B}", {"A": 1, "B": {"Ref": "P"}}]},
        "e": {"Fn::Join": [",", ["a", {"Ref": "P"}]]},
        "f": {"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]},
        "g": {"Fn::If": ["Cond", True, {"Ref": "AWS::NoValue"}]},
        "h": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "i": "2010-09-09",
    }


def test_resolver_evaluates_short_and_long_forms() -> None:
    resolver = Resolver(parameters={"P": "20"})
    resolver.refs.update({"Queue": "http://q", "Fn": "order-saga", "Fn.Alias": "arn:fn:order-saga:live"})
    resolver.attrs[("Queue", "Arn")] = "arn:aws:sqs:us-east-1:000000000000:q"
    resolver.conditions.update({"On": True, "Off": False})
    value = {
        "name": {"Fn::Sub": "${AWS::StackName}-${P}-${AWS::AccountId}"},
        "arn": {"Fn::Sub": "${Queue.Arn}/${!Literal}"},
        "alias": {"Ref": "Fn.Alias"},
        "alias_in_sub": {"Fn::Sub": "${Fn.Alias}"},
        "list_sub": {"Fn::Sub": ["${X}:${AWS::Region}", {"X": {"Ref": "Fn"}}]},
        "join": {"Fn::Join": ["/", [{"Ref": "P"}, "b"]]},
        "select": {"Fn::Select": ["1", {"Fn::Split": [",", "x,y,z"]}]},
        "on": {"Fn::If": ["On", "yes", "no"]},
        "gone": {"Fn::If": ["Off", "x", {"Ref": "AWS::NoValue"}]},
        "items": [{"Fn::If": ["Off", "x", {"Ref": "AWS::NoValue"}]}, "kept"],
        "partition": {"Ref": "AWS::Partition"},
    }
    assert resolver.resolve(value) == {
        "name": "workshop-20-000000000000",
        "arn": "arn:aws:sqs:us-east-1:000000000000:q/${Literal}",
        "alias": "arn:fn:order-saga:live",
        "alias_in_sub": "arn:fn:order-saga:live",
        "list_sub": "order-saga:us-east-1",
        "join": "20/b",
        "select": "y",
        "on": "yes",
        "items": ["kept"],
        "partition": "aws",
    }


def test_unknown_reference_is_an_error_and_skipped_one_a_placeholder() -> None:
    resolver = Resolver(parameters={}, skipped={"Role"})
    with pytest.raises(TemplateError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})
    assert "not provisioned locally" in resolver.resolve({"Fn::GetAtt": ["Role", "Arn"]})
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_conditions_may_refer_to_each_other() -> None:
    resolver = Resolver(parameters={"Env": "local"})
    resolver.evaluate_conditions(
        {
            "NotLocal": {"Fn::Not": [{"Condition": "IsLocal"}]},
            "IsLocal": {"Fn::Equals": [{"Ref": "Env"}, "local"]},
            "Both": {"Fn::And": [{"Condition": "IsLocal"}, {"Fn::Not": [{"Condition": "NotLocal"}]}]},
        }
    )
    assert resolver.conditions == {"IsLocal": True, "NotLocal": False, "Both": True}


def test_parameter_layers_and_checks() -> None:
    template = {
        "Parameters": {
            "Seconds": {"Type": "Number", "Default": 86400, "MinValue": 1},
            "Mode": {"Type": "String", "Default": "a", "AllowedValues": ["a", "b"]},
        }
    }
    assert resolve_parameters(template) == {"Seconds": "86400", "Mode": "a"}
    assert resolve_parameters(template, {"Seconds": 20}, {"Mode": "b"}) == {"Seconds": "20", "Mode": "b"}
    assert resolve_parameters(template, {"Seconds": 20}, {"Seconds": 5})["Seconds"] == "5"
    with pytest.raises(TemplateError, match="not declared"):
        resolve_parameters(template, {"Typo": 1})
    with pytest.raises(TemplateError, match="MinValue"):
        resolve_parameters(template, {"Seconds": 0})
    with pytest.raises(TemplateError, match="not a number"):
        resolve_parameters(template, {"Seconds": "soon"})
    with pytest.raises(TemplateError, match="not one of"):
        resolve_parameters(template, {"Mode": "c"})
    with pytest.raises(TemplateError, match="no Default"):
        resolve_parameters({"Parameters": {"X": {"Type": "String"}}})


def test_creation_order_puts_referenced_resources_first() -> None:
    resources = {
        "Queue": {"Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
        "Param": {"Properties": {"Value": {"Fn::Sub": "${Queue}"}}},
        "Dlq": {"Properties": {}},
        "Later": {"DependsOn": "Param", "Properties": {}},
    }
    assert creation_order(resources, list(resources)) == ["Dlq", "Queue", "Param", "Later"]
    cyclic = {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"X": {"Ref": "A"}}}}
    with pytest.raises(TemplateError, match="cycle"):
        creation_order(cyclic, ["A", "B"])


def test_generated_secret_follows_the_options() -> None:
    password = generate_secret_string({"PasswordLength": 24, "ExcludePunctuation": True, "ExcludeCharacters": "0O"})
    assert len(password) == 24
    assert not set(password) & set(string.punctuation + "0O")
    assert set(password) & set(string.ascii_lowercase) and set(password) & set(string.ascii_uppercase)
    assert set(password) & set(string.digits)
    document = json.loads(
        generate_secret_string({"SecretStringTemplate": '{"user": "app"}', "GenerateStringKey": "pw"})
    )
    assert document["user"] == "app" and len(document["pw"]) == 32
    assert generate_secret_string({}) != generate_secret_string({})
