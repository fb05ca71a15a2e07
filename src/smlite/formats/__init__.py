"""Format layer: bytes on disk to protos and records.  Knows bytes, not meaning."""
