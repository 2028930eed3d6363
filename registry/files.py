"""Writing the files that carry the registry out of the database (exports, backups).

They may hold every curated and community figure, so each is private from the moment it
exists (mode 600, never briefly readable by others), and it appears whole or not at all:
the data goes to a new file beside the destination, is flushed to disk, and is then
renamed over the destination. A crash, a full disk or an error midway leaves the previous
file exactly as it was.

The destination is never a symbolic link: one is refused rather than followed (which would
overwrite whatever it points at, and chmod it) or silently replaced (which would surprise
whoever made it). rename() itself never follows a link at the destination, so even a link
made after the check is replaced, never written through.
"""

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

SYMLINK_REFUSED = "it is a symbolic link, which is neither followed nor replaced"


@contextmanager
def private_file_replacing(path):
    """Yield the path of a new, empty, mode-600 file beside `path` to write into; when the
    block ends without an error, make it durable and rename it to `path`. On any error
    (or interruption) the new file is removed and `path` is untouched.

    Raises OSError (with a readable strerror) when `path` cannot be written: its folder is
    missing, it is a folder, or it is a symbolic link."""
    target = Path(path)
    if target.is_symlink():
        raise OSError(errno.ELOOP, SYMLINK_REFUSED, str(target))
    # mkstemp opens with O_CREAT | O_EXCL and mode 600: a new file nobody else can read.
    descriptor, partial = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    os.close(descriptor)
    try:
        yield partial
        _fsync(partial, os.O_RDONLY)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    # The rename is on disk only once the folder's entry is.
    _fsync(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def write_private_file_atomically(path, text):
    """Write `text` (UTF-8) to `path` through private_file_replacing()."""
    with private_file_replacing(path) as partial, open(partial, "w", encoding="utf-8") as output:
        output.write(text)


def _fsync(path, flags):
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
