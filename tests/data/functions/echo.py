"""Test handlers: each returns what the gateway sent, or misbehaves on purpose."""

import json


def echo(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-function": context.function_name},
        "body": json.dumps(event),
    }


def hello(event, context):
    return "Hello from Lambda!"


def inferred(event, context):
    return {"message": "hi", "path": event.get("rawPath")}


def teapot(event, context):
    return {"statusCode": 418, "cookies": ["a=1", "b=2"], "body": "short and stout"}


def explode(event, context):
    raise RuntimeError("boom")


def malformed(event, context):
    return {"statusCode": "not a number", "body": 5}


async def async_echo(event, context):
    return {"statusCode": 200, "body": event["body"] or "", "isBase64Encoded": False}
