"""OTLP decoding: protobuf messages into the canonical records."""
