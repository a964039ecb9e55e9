"""The metric names a PromQL expression reads (not functions, labels, keywords or variables)."""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_NAME = re.compile(r"(?<![\w$:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and",
    "or", "unless", "inf", "nan", "Inf", "NaN",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Every metric name `expr` selects."""
    text = _STRINGS.sub(" ", expr)
    text = _BRACES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    return {name for name in _NAME.findall(text) if name not in _KEYWORDS}


def exposed_names(exposition: str) -> set[str]:
    """Sample names of a /metrics text exposition, with those of families declared by `# TYPE`
    that have no sample yet (a labelled counter before its first increment)."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "summary":
                names |= {f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names
