"""Environment markers as strings: joining them, and dropping the `extra` terms pip never sets."""

from __future__ import annotations

from typing import Any

from packaging.markers import InvalidMarker, Marker


def without_extras(marker: str) -> str:
    """`marker` minus its `extra == "…"` terms: pip evaluates a requirements file with no extra set."""
    if "extra" not in marker:
        return marker
    try:
        parsed = Marker(marker)._markers
    except InvalidMarker:
        return marker
    return _format_marker(_drop_extras(parsed))


def _drop_extras(terms: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for term in terms:
        if isinstance(term, list):
            term = _drop_extras(term)
            if not term:
                continue
        elif isinstance(term, tuple) and "extra" in (term[0].value, term[2].value):
            continue
        if isinstance(term, str) and (not kept or isinstance(kept[-1], str)):
            continue  # an `and`/`or` whose left side was dropped
        kept.append(term)
    return kept[:-1] if kept and isinstance(kept[-1], str) else kept


def _format_marker(terms: list[Any]) -> str:
    words = []
    for term in terms:
        if isinstance(term, list):
            words.append(f"({_format_marker(term)})" if len(term) > 1 else _format_marker(term))
        elif isinstance(term, tuple):
            words.append(" ".join(part.serialize() for part in term))
        else:
            words.append(term)
    return " ".join(words)


def and_markers(*markers: str) -> str:
    present = [marker for marker in markers if marker]
    if len(present) < 2:
        return "".join(present)
    return " and ".join(f"({marker})" if " or " in marker else marker for marker in present)


def or_markers(markers: list[str]) -> str:
    if len(markers) == 1:
        return markers[0]
    return " or ".join(
        f"({marker})" if " and " in marker or " or " in marker else marker for marker in markers
    )
