"""Read a file only if it is a regular file inside a given folder, as it is when read.

A folder can change between the moment it is listed and the moment a file is read: a
file swapped for a symlink, a subfolder for a link to elsewhere, a file for a FIFO.
So the check is made on the opened file: `O_NOFOLLOW` refuses a link in the last
component, `O_NONBLOCK` keeps a FIFO from blocking the open, `fstat` must say regular
file, and the path the kernel holds for the descriptor (`/proc/self/fd/N`; elsewhere the
resolved path, checked to be the same inode) must lie inside the folder.

`gunzip` decompresses a `.gz` file's bytes under the same size limit, a piece at a time: a gzip bomb is
refused once its output passes the limit, never decompressed whole.
"""
from __future__ import annotations

import errno
import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileRefused", "open_regular", "read_regular", "file_kind", "gunzip"]

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class FileRefused(Exception):
    """The file is not read; the message says why in a few words (no verb: the caller adds one)."""


def file_kind(mode: int) -> str:
    """'FIFO', 'socket', 'device', 'folder', 'symlink' or 'file'."""
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "file"


def _opened_path(fd: int, path: Path, st: os.stat_result) -> Path:
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:  # no /proc: the resolved path must name the very file opened
        real = Path(os.path.realpath(path))
        now = os.stat(real)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise FileRefused("changed while it was being opened") from None
        return real


def open_regular(path: Path, root: Path) -> BinaryIO:
    """`path` opened for reading; it must be a regular file inside `root` (a resolved path).

    Raises FileRefused (a link, not a regular file, outside `root`) or OSError.
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise FileRefused("is a symlink") from None
        if e.errno == errno.ENXIO:  # a socket
            raise FileRefused("not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"not a regular file ({file_kind(st.st_mode)})")
        real = _opened_path(fd, path, st)
        if not real.is_relative_to(root):
            raise FileRefused(f"resolves outside {root} (to {real})")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, root: Path, limit: int) -> bytes:
    """The bytes of `path` (see `open_regular`); FileRefused if it holds over `limit` bytes."""
    with open_regular(path, root) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise FileRefused(f"file is {_mb(size)}, over the {_mb(limit)} limit")
        data = f.read(limit + 1)  # a file that grows while read is cut
    if len(data) > limit:
        raise FileRefused(f"file grew over the {_mb(limit)} limit while it was read")
    return data


def gunzip(data: bytes, limit: int) -> bytes:
    """The decompressed bytes of the gzip file `data` (every member of it); FileRefused when they would be over
    `limit` bytes (decompression stops there), or when `data` is not gzip or is cut short."""
    pieces: list[bytes] = []
    size = 0
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    todo = data
    while True:
        try:
            piece = d.decompress(todo, limit + 1 - size)  # never 0 (unbounded): size <= limit here
        except zlib.error as e:
            raise FileRefused(f"not a valid gzip file ({e})") from None
        size += len(piece)
        if size > limit:
            raise FileRefused(f"decompresses to over the {_mb(limit)} limit (from {_mb(len(data))} compressed)")
        pieces.append(piece)
        if d.unconsumed_tail:
            todo = d.unconsumed_tail
        elif d.eof and d.unused_data.strip(b"\0"):  # another member follows (`cat a.gz b.gz`)
            todo = d.unused_data
            d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif d.eof:
            return b"".join(pieces)
        else:
            raise FileRefused("gzip file cut short")


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"
