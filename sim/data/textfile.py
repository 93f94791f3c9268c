"""Reading a text file a user named, without trusting it.

Every reader of user files (scenarios, handbooks, rule sets, grid tables, case logs, maps)
reads through `read_text`: the path must be a regular file (not a folder, a device, a pipe
or a socket), no bigger than the reader's cap, and UTF-8 text without NUL or other control
characters. What is wrong is reported as ``FILE[:LINE]: expected ..., got ...`` with the
line and column of a bad byte, and never with the file's content, so naming a file that
is not GridLoop's (``base: /etc/shadow``) reveals nothing of it.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from sim.errors import InputError

__all__ = ["read_text", "decode", "check_regular", "kind_of", "control_name", "CONTROL",
           "MiB"]

MiB = 2**20

# C0 controls but tab, LF and CR, and DEL: never in a text file a person wrote
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a folder", "a character device"...)."""
    for test, words in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def check_regular(path: str | Path, what: str, max_bytes: int) -> os.stat_result:
    """The ``stat`` of ``path`` if it is a regular file of at most ``max_bytes``.

    Raises:
        InputError: no such file, not a regular file, or too big (the message names the path
            and what was found there).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(str(path), None, "", f"expected {what}, got no such file") from None
    except OSError as e:
        raise InputError(str(path), None, "", f"expected {what}, got a path that cannot be "
                         f"read ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(str(path), None, "", f"expected {what}, got {kind_of(st.st_mode)}")
    if st.st_size > max_bytes:
        raise InputError(str(path), None, "", f"expected {what} of at most "
                         f"{_size(max_bytes)}, got {_size(st.st_size)}")
    return st


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n:,} bytes"


def read_text(path: str | Path, what: str, max_bytes: int) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` (a UTF-8 byte-order mark is
    dropped).

    The file is opened without following it into a device or pipe: its type is checked on
    the open descriptor, and at most ``max_bytes + 1`` bytes are ever read, so a file that
    grows while it is read is refused too.

    Raises:
        InputError: the problems of `check_regular` and `decode`.
    """
    check_regular(path, what, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise InputError(str(path), None, "", f"expected {what}, got a path that cannot be "
                         f"read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())        # the file opened, not the name checked before
        if not stat.S_ISREG(st.st_mode):
            raise InputError(str(path), None, "", f"expected {what}, got "
                             f"{kind_of(st.st_mode)}")
        data = _read_at_most(f, max_bytes + 1, st.st_size)
    if len(data) > max_bytes:
        raise InputError(str(path), None, "", f"expected {what} of at most "
                         f"{_size(max_bytes)}, got a bigger file")
    return decode(data, str(path))


def _read_at_most(f: BinaryIO, most: int, expected: int) -> bytes:
    """Up to ``most`` bytes of ``f``, in pieces: ``read(most)`` would set aside ``most``
    bytes first, the whole cap for every small file."""
    pieces, total = [], 0
    while total < most:
        piece = f.read(min(most - total, max(expected + 1 - total, 0) or MiB, 16 * MiB))
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)


def decode(data: bytes, file: str) -> str:
    """``data`` as UTF-8 text, checked: no UTF-16/32, no undecodable byte, no NUL or other
    control character (tab, LF and CR are fine). A UTF-8 byte-order mark is dropped.

    Raises:
        InputError: ``FILE:LINE: expected UTF-8 text, got ... at column C``.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise InputError(file, 1, "", f"expected UTF-8 text, got {name} text (byte-order "
                             f"mark {bom.hex(' ').upper()}); save the file as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _position(data, e.start)
        raise InputError(file, line, "", f"expected UTF-8 text, got byte "
                         f"0x{data[e.start]:02X} that is not UTF-8 at column {col} (save the "
                         f"file as UTF-8)") from None
    text = text.removeprefix("\ufeff")
    bad = CONTROL.search(text)
    if bad is not None:
        before = text[:bad.start()]
        line = before.count("\n") + 1
        col = bad.start() - (before.rfind("\n") + 1) + 1
        name = control_name(bad.group())
        hint = " (UTF-16 text saved without a byte-order mark?)" if bad.group() == "\x00" else ""
        raise InputError(file, line, "", f"expected UTF-8 text without control characters, "
                         f"got {name} at column {col}{hint}")
    return text


def control_name(char: str) -> str:
    """``NUL`` or ``control character U+001B``."""
    return "NUL" if char == "\x00" else f"control character U+{ord(char):04X}"


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of byte ``offset``."""
    start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - start + 1
