"""The Posts of `engagement-bot query`: IDs and links as arguments, `-` for standard input and
`@file` for a file, one Post a line, blank lines and `#` comments skipped, all mixable.

Pure: the caller passes the readers, so the command line owns every file handle and a script
piping 5,000 IDs costs no more than typing five.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bot.copy import messages
from bot.engagement.post_refs import parse_post_ref

STDIN = "-"
FILE_PREFIX = "@"


def expand_post_args(
    args: Sequence[str],
    *,
    read_stdin: Callable[[], str],
    read_file: Callable[[str], str],
) -> list[str]:
    """Every Post reference the arguments name, in order; ValueError says which line of which
    source is not a Post. `read_file` raises OSError for a file it cannot read."""
    refs: list[str] = []
    stdin_read = False
    for arg in args:
        if arg == STDIN:
            if stdin_read:
                raise ValueError(messages.cli_stdin_twice())
            stdin_read = True
            refs.extend(_lines(read_stdin(), messages.cli_stdin_name()))
        elif arg.startswith(FILE_PREFIX) and len(arg) > 1:
            name = arg[len(FILE_PREFIX) :]
            try:
                text = read_file(name)
            except OSError as error:
                raise ValueError(messages.cli_file_unreadable(name, error.strerror)) from None
            refs.extend(_lines(text, name))
        else:
            refs.append(arg)
    if not refs:
        raise ValueError(messages.cli_no_posts())
    return refs


def _lines(text: str, source: str) -> Iterable[str]:
    """The Post references of a list, each checked here so an error can name its line."""
    for number, line in enumerate(text.splitlines(), start=1):
        ref = _without_comment(line.strip())
        if not ref or ref.startswith("#"):
            continue
        try:
            parse_post_ref(ref)
        except ValueError as error:
            raise ValueError(messages.cli_bad_line(source, number, str(error))) from None
        yield ref


def _without_comment(line: str) -> str:
    """`123  # launch day` → `123`; a `#` inside a link (no space before it) stays."""
    for mark in (" #", "\t#"):
        line = line.split(mark, 1)[0]
    return line.strip()
