"""The real LLM corpus (test-data/llm-corpus) decoded with the collector's own decoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.otlp.traces import decode_export_request
from shared.span import Span

CORPUS = Path(__file__).resolve().parents[2] / "test-data" / "llm-corpus"
LIBRARIES = sorted(path.name for path in CORPUS.iterdir() if path.is_dir())


def trace_files() -> list[Path]:
    """Every scenario's trace export (`<library>/<scenario>.otlp.pb`), in a stable order."""
    return sorted(p for p in CORPUS.glob("*/*.otlp.pb") if p.name.count(".") == 2)


def load_request(path: Path) -> ExportTraceServiceRequest:
    """One export request as the library sent it."""
    return ExportTraceServiceRequest.FromString(path.read_bytes())


def load_spans(path: Path, project_id: str) -> list[Span]:
    """The decoded spans of one trace export, all accepted."""
    decoded = decode_export_request(load_request(path), project_id, 1)
    assert decoded.rejected == 0
    return decoded.spans


def expected_calls(library: str) -> list[dict[str, Any]]:
    """The ground-truth calls of every scenario of one library."""
    calls: list[dict[str, Any]] = []
    for path in sorted((CORPUS / library).glob("*.expected.json")):
        calls.extend(json.loads(path.read_text())["expected"]["calls"])
    return calls
