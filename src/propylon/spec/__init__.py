"""The protocol layer, derived from botocore's service models.

``model`` loads a service model; ``router`` maps (method, path) to an operation; ``parse`` turns a
request into the operation's input (PascalCase members, as boto3 passes them); ``validate``
checks that input against the model's constraints; ``serialize`` writes outputs and errors with
the model's wire names and status codes.
"""
