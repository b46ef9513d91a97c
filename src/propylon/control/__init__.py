"""The apigatewayv2 control plane: a resource table with one generic CRUD path, and the
handlers whose behaviour is specific (quick create, route keys, stages, deployments, tags)."""
