"""Lambda authorizers for the end-to-end tests, loaded by module name
(``tests.data.functions.authorizers.simple``) so that the tests can read ``CALLS``: every event
an authorizer received, in order."""

import time

CALLS = []

CONTEXT = {"user": "alice", "count": 3, "admin": True, "roles": ["a", "b"], "extra": {"k": "v"}}


def _token(event):
    """The first identity value (a list in 2.0, comma-joined in 1.0), or None."""
    identity = event.get("identitySource") or []
    if isinstance(identity, str):
        identity = identity.split(",")
    return identity[0] if identity else None


def simple(event, context):
    """2.0 simple response: ``allow`` (or no identity sources at all) is authorized."""
    CALLS.append(event)
    token = _token(event)
    return {"isAuthorized": token in (None, "allow"), "context": {**CONTEXT, "token": token}}


def policy(event, context):
    """An IAM policy chosen by the token: ``allow``/``deny`` this route's ARN, ``wildcard``
    (every GET of the stage), ``elsewhere`` (another route only), ``mixed`` (Allow all, Deny
    this route)."""
    CALLS.append(event)
    arn = event.get("routeArn") or event["methodArn"]
    api_arn, stage = arn.split("/")[:2]
    token = _token(event)
    statements = {
        "allow": [("Allow", arn)],
        "deny": [("Deny", arn)],
        "wildcard": [("Allow", f"{api_arn}/{stage}/GET/*")],
        "elsewhere": [("Allow", f"{api_arn}/{stage}/GET/other")],
        "mixed": [("Allow", f"{api_arn}/*"), ("Deny", arn)],
    }[token]
    return {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}
                for effect, resource in statements
            ],
        },
        "context": {**CONTEXT, "token": token},
    }


def explode(event, context):
    CALLS.append(event)
    raise RuntimeError("the authorizer broke")


def slow(event, context):
    CALLS.append(event)
    time.sleep(1.0)  # longer than the function's configured timeout
    return {"isAuthorized": True}


def invalid(event, context):
    CALLS.append(event)
    return {"isAuthorized": "yes"}
