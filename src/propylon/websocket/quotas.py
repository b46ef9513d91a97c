"""The limits a WebSocket connection runs under (reference §13.2).

AWS's values are the defaults; they are constructor parameters so tests can use small ones
(an idle timeout of a fraction of a second) instead of waiting ten minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

KB = 1024


@dataclass(frozen=True, slots=True)
class Quotas:
    idle_timeout: float = 10 * 60.0
    """Seconds without a message from the client before the gateway closes the connection."""
    max_duration: float = 2 * 60 * 60.0
    """Seconds a connection may stay open at all."""
    max_message: int = 128 * KB
    """Bytes of one message, from the client or through ``@connections`` (UTF-8 encoded)."""
    integration_timeout: float = 29.0
    """Seconds an integration may take at most, whatever its ``TimeoutInMillis`` says."""
