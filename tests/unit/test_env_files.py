"""Reading pasted .env files: what each line means, and errors that name the line and what is wrong."""

from __future__ import annotations

import pytest

from api.services.env_files import EnvEntry, parse_env_file
from core.errors import ConfigError


def values(text: str) -> dict[str, str]:
    return {entry.key: entry.value for entry in parse_env_file(text)}


def refusal(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        parse_env_file(text)
    return raised.value


def test_a_typical_file_with_comments_blank_lines_and_export() -> None:
    text = "# settings\n\nexport DEBUG=0\n  LOG_LEVEL = info  \nEMPTY=\n"

    assert parse_env_file(text) == [
        EnvEntry(line=3, key="DEBUG", value="0"),
        EnvEntry(line=4, key="LOG_LEVEL", value="info"),
        EnvEntry(line=5, key="EMPTY", value=""),
    ]


def test_an_unquoted_value_keeps_equals_signs_and_ends_at_a_spaced_hash() -> None:
    assert values("URL=postgres://u:p@db/app?sslmode=require&x=1  # primary\nCOLOR=#fff\n") == {
        "URL": "postgres://u:p@db/app?sslmode=require&x=1",
        "COLOR": "#fff",
    }


def test_single_quotes_are_literal() -> None:
    assert values("A='two  spaces # and a hash \\n'\n") == {"A": "two  spaces # and a hash \\n"}


def test_double_quotes_understand_escapes() -> None:
    assert values('A="line one\\nline two\\t\\"quoted\\" \\\\ \\x"  # comment\n') == {
        "A": 'line one\nline two\t"quoted" \\ \\x'
    }


def test_quoted_values_may_span_lines_and_later_lines_keep_their_numbers() -> None:
    text = 'KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nNEXT=1\n'

    assert parse_env_file(text) == [
        EnvEntry(line=1, key="KEY", value="-----BEGIN KEY-----\nabc\n-----END KEY-----"),
        EnvEntry(line=4, key="NEXT", value="1"),
    ]


def test_windows_line_endings_are_read_like_unix_ones() -> None:
    assert values("A=1\r\nB='x'\r\n") == {"A": "1", "B": "x"}


def test_a_key_given_twice_keeps_its_last_value_in_its_last_place() -> None:
    assert parse_env_file("A=1\nB=2\nA=3\n") == [EnvEntry(2, "B", "2"), EnvEntry(3, "A", "3")]


@pytest.mark.parametrize(
    ("text", "where", "detail"),
    [
        ("A=1\njust words\n", "line 2", "line 2: expected KEY=value but the line has no ="),
        ("=value\n", "line 1", "line 1: the line starts with =; put the variable's name before it"),
        (
            "A=1\n\nmy-key=1\n",
            "line 3",
            "line 3: 'my-key' is not a valid key: use letters, digits and underscores, not starting with "
            "a digit",
        ),
        (
            "1ST=x\n",
            "line 1",
            "line 1: '1ST' is not a valid key: use letters, digits and underscores, "
            "not starting with a digit",
        ),
        (
            'A=1\nB="open\nC=3\n',
            "line 2",
            'line 2: the value\'s opening " is never closed; add the closing "',
        ),
        (
            "A='x' y\n",
            "line 1",
            "line 1: unexpected text after the closing '; quote the whole value, or put a # before a comment",
        ),
        ("# nothing\n\n", None, "found no KEY=value line; paste the contents of a .env file"),
    ],
)
def test_errors_name_the_line_and_what_is_wrong(text: str, where: str | None, detail: str) -> None:
    error = refusal(text)

    assert (error.where, error.detail) == (where, detail)


def test_errors_never_quote_a_value() -> None:
    assert "hunter2" not in refusal("PASSWORD='hunter2' trailing\n").detail
    assert "hunter2" not in refusal("hunter2\n").detail
