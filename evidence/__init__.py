"""On-chain evidence: chain registry, JSON-RPC access, decoding, tracing. Pure: no Flask, no database."""
