"""Statement files as text, line by line, whatever the portal or a spreadsheet saved them
as: UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252. Anything else is an
`invalid_statement`, never a crash (CONTRACT §8)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from pesadesk.reconcile.statement import StatementError

CHUNK = 64 * 1024


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the chunk's end
            return "cp1252"
    return "utf-8"


def statement_lines(raw: BinaryIO) -> Iterator[str]:
    """The file's lines, decoded as they are read (the file is never read whole)."""
    head = raw.read(CHUNK)
    encoding = _encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    offset = 0
    chunk = head
    while chunk:
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError:
            raise StatementError(
                f"the file is not readable text ({encoding} breaks near byte {offset}): "
                "save it as CSV (UTF-8) and try again"
            ) from None
        offset += len(chunk)
        *lines, pending = pending.splitlines(keepends=True) or [""]
        yield from lines
        chunk = raw.read(CHUNK)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
