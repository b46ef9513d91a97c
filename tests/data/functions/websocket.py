"""WebSocket test handler: one function for every route, behaving by route key.

Events of ``$connect`` and ``$disconnect`` are kept by connection id, so a test can ask for
them later over another connection (``{"action": "events", "id": ...}``).
"""

import json

SEEN = {}


def handler(event, context):
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        refuse = (event.get("queryStringParameters") or {}).get("refuse")
        if refuse:
            return {"statusCode": int(refuse), "body": "refused"}
        SEEN.setdefault(ctx["connectionId"], []).append(event)
        protocol = event["headers"].get("sec-websocket-protocol")
        headers = {"X-Connect": "done"}
        if protocol:
            headers["Sec-WebSocket-Protocol"] = protocol.split(",")[0]
        return {"statusCode": 200, "headers": headers}
    if route == "$disconnect":
        SEEN.setdefault(ctx["connectionId"], []).append(event)
        return {"statusCode": 200}
    if route == "events":
        wanted = json.loads(event["body"])["id"]
        return {"statusCode": 200, "body": json.dumps(SEEN.get(wanted, []))}
    if route == "explode":
        raise RuntimeError("boom")
    if route == "$default":
        return {"statusCode": 200, "body": "default:" + event["body"]}
    return {"statusCode": 200, "body": json.dumps(event)}


def authorizer(event, context):
    """Allows ``?token=allow``, denies anything else; says what it saw in its context."""
    token = (event.get("queryStringParameters") or {}).get("token")
    effect = "Allow" if token == "allow" else "Deny"
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}
            ],
        },
        "context": {"arn": event["methodArn"], "type": event["type"], "n": 1},
    }
