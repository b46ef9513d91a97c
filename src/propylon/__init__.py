"""Propylon: Amazon API Gateway V2 (HTTP and WebSocket APIs), self-hosted."""

__version__ = "0.1.0"
