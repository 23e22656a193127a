"""Lambda API errors in the shape botocore parses (header x-amzn-ErrorType + message)."""

from __future__ import annotations

import json


class AwsError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> bytes:
        return json.dumps({"Type": "User", "message": self.message, "Message": self.message}).encode()


def not_found(function_arn: str) -> AwsError:
    return AwsError(404, "ResourceNotFoundException", f"Function not found: {function_arn}")


def invalid_parameter(message: str) -> AwsError:
    return AwsError(400, "InvalidParameterValueException", message)


def invalid_content(message: str) -> AwsError:
    return AwsError(400, "InvalidRequestContentException", message)


def too_large(message: str) -> AwsError:
    return AwsError(413, "RequestTooLargeException", message)
