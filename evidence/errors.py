"""The errors evidence raises: each carries a message a handler can read as it is."""

from __future__ import annotations


class EvidenceError(Exception):
    """Base class for every error the evidence package raises on purpose."""


class ChainConfigError(EvidenceError):
    """The operator's chain configuration is missing, unreadable or invalid."""


class RpcError(EvidenceError):
    """A JSON-RPC exchange failed after every retry and every configured endpoint."""


class CaptureError(EvidenceError):
    """Capture was refused: a malformed hash, the wrong chain, or a chain that changed underneath."""


class DiscoveryError(EvidenceError):
    """Discovery was refused: a malformed address or an impossible time window."""


class TraceError(EvidenceError):
    """Tracing was refused: no seed, a malformed address, or limits out of range."""
