""".env files as people paste them: `KEY=value` lines, read the way python-dotenv and Docker Compose do.

    # comments and blank lines are skipped
    export DEBUG=0                 # `export ` is allowed; an unquoted value ends at ` #`
    DATABASE_URL=postgres://u:p@db/app?sslmode=require   # `=` inside a value is part of it
    GREETING='hello  world'        # single quotes: taken literally
    MOTD="two\nlines"              # double quotes: \\n \\r \\t \\" \\\\ are escapes
    KEY="-----BEGIN KEY-----
    ...
    -----END KEY-----"             # quoted values may span lines

Values are taken literally otherwise (no `${VAR}` expansion). A problem is a ConfigError whose `where` is the
line (`line 4`), saying what is wrong there without quoting the value, which may be a secret; a key given
twice keeps its last value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ConfigError

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXPORT = re.compile(r"export\s+")
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@dataclass(frozen=True)
class EnvEntry:
    """One variable of a .env file and the line it starts on (1-based)."""

    line: int
    key: str
    value: str


def parse_env_file(text: str) -> list[EnvEntry]:
    """The variables of `text` in file order, each key once (its last value), or a ConfigError naming the
    first bad line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    entries: dict[str, EnvEntry] = {}
    number = 0
    while number < len(lines):
        start = number + 1
        stripped = lines[number].strip()
        number += 1
        if not stripped or stripped.startswith("#"):
            continue
        if "=" not in stripped:
            raise ConfigError("expected KEY=value but the line has no =", where=f"line {start}")
        left, rest = stripped.split("=", 1)
        key = EXPORT.sub("", left, count=1).strip() if EXPORT.match(left) else left.strip()
        if not key:
            raise ConfigError(
                "the line starts with =; put the variable's name before it", where=f"line {start}"
            )
        if not KEY.fullmatch(key):
            raise ConfigError(
                f"{_shorten(key)!r} is not a valid key: use letters, digits and underscores, not starting "
                "with a digit",
                where=f"line {start}",
            )
        rest = rest.strip()
        if rest[:1] in ("'", '"'):
            value, number = _quoted(rest, lines, number, start)
        else:
            value = re.split(r"\s#", rest, maxsplit=1)[0].rstrip()
        entries.pop(key, None)
        entries[key] = EnvEntry(line=start, key=key, value=value)
    if not entries:
        raise ConfigError("found no KEY=value line; paste the contents of a .env file")
    return list(entries.values())


def _quoted(rest: str, lines: list[str], number: int, start: int) -> tuple[str, int]:
    """The value of a quoted `rest` (continued on the following lines until its closing quote) and the
    index of the line after it."""
    quote, text = rest[0], rest[1:]
    while True:
        closing = _closing_quote(text, quote)
        if closing is not None:
            break
        if number >= len(lines):
            raise ConfigError(
                f"the value's opening {quote} is never closed; add the closing {quote}", where=f"line {start}"
            )
        text += "\n" + lines[number]
        number += 1
    after = text[closing + 1 :].strip()
    if after and not after.startswith("#"):
        end = start + text[:closing].count("\n")
        raise ConfigError(
            f"unexpected text after the closing {quote}; quote the whole value, or put a # before a comment",
            where=f"line {end}",
        )
    raw = text[:closing]
    return (raw if quote == "'" else _unescape(raw)), number


def _closing_quote(text: str, quote: str) -> int | None:
    """Index of the quote that closes `text`; in double quotes a backslash escapes the next character."""
    index = 0
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return None


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda match: ESCAPES.get(match[1], match[0]), raw, flags=re.DOTALL)


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
