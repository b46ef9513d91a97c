"""WebSocket APIs (reference §12): connections, route selection, Lambda proxy events and the
``@connections`` management API.

- ``session``: one client connection from upgrade to ``$disconnect`` (the WebSocket door);
- ``selection`` and ``routes``: which route a message takes;
- ``context`` and ``events``: the ``$context`` of each event and the Lambda proxy events;
- ``integrate``: calling a route's integration (Lambda proxy here, the rest in
  ``integrations``);
- ``manage``: ``POST``/``GET``/``DELETE`` ``/{stage}/@connections/{id}``;
- ``connections``: where open connections are registered (in memory; shared backends later);
- ``quotas``: AWS's limits for WebSocket APIs.
"""
