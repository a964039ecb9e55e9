"""Atheris entry point: `python -m tests.reliability.fuzz.run TARGET [libFuzzer options] [corpus
directories]`; exits non-zero and writes a crash-* file when a target fails."""

from __future__ import annotations

import sys

import atheris

# Coverage feedback from our own code (the decoders, the conventions, the hand-off format).
with atheris.instrument_imports(include=["shared", "services"]):
    from tests.reliability.fuzz.targets import TARGETS


def main() -> None:
    """Fuzz the target named by the first argument; the rest goes to libFuzzer."""
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
