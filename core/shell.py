"""Process commands run through `/bin/sh -c`, made to receive their signals."""

from __future__ import annotations

import re
import shlex

# Tokens (outside quotes) that make a command more than one process or a shell construct.
COMPOUND = frozenset({";", "&", "&&", "|", "||", "(", ")", ";;", "|&"})
# `2>&1`, `>&2`: redirections, whose `&` is not the background operator.
DUPLICATIONS = re.compile(r"[0-9]*[<>]&[0-9-]+")
ASSIGNMENT = r"""[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"[^"]*"|[^\s'"]*)\s+"""
ASSIGNMENTS = re.compile(rf"^((?:{ASSIGNMENT})*)(.*)$", re.DOTALL)


def exec_form(command: str) -> str:
    """`command` with `exec` in front of its program when it is a single simple command.

    Debian's sh (dash) does not replace itself with the last command as bash does, so without `exec` a
    SIGTERM stops the shell and the app is killed without its graceful shutdown (a Celery worker's running
    task, beat's schedule file). Compound commands (`a && b`, pipes) are left as they are.
    """
    stripped = command.strip()
    if not stripped or "`" in stripped or "$(" in stripped or "\n" in stripped:
        return command
    try:
        tokens = list(shlex.shlex(DUPLICATIONS.sub(" ", stripped), posix=True, punctuation_chars=";&|()"))
    except ValueError:  # unbalanced quotes: let the shell report it
        return command
    if any(token in COMPOUND for token in tokens):
        return command
    match = ASSIGNMENTS.match(stripped)
    assert match is not None  # the pattern matches any string
    assignments, program = match.groups()
    if not program or program.startswith("exec ") or program == "exec":
        return command
    # Assignments stay in front: `FOO=1 exec cmd` passes FOO to cmd; `exec FOO=1 cmd` is an error.
    return f"{assignments}exec {program}"
