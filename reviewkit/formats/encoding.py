"""Turn the bytes of an uploaded file into text, or say plainly why they are not text."""

from __future__ import annotations

import codecs

from reviewkit.errors import FormatError

# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Control bytes that never appear in a text export; tab, newlines, form feed and the old DOS
# end-of-file mark (0x1A) do, so they are left out.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26)) + b"\x7f"
_SAMPLE_SIZE = 65536

# Magic numbers of binary files people upload by mistake, with advice for each.
_BINARY_KINDS = (
    (b"PK\x03\x04", "a ZIP archive but not an Excel workbook (a .docx file is one); export "
                    "the data as CSV, RIS or .xlsx"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file that is not an Excel workbook (a .doc "
                          "file is one); export the data as CSV, RIS or .xlsx"),
    (b"%PDF-", "a PDF; import it as a PDF"),
    (b"\x1f\x8b", "a gzip-compressed file; unpack it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def decode_bytes(data: bytes, *, filename: str = "") -> str:
    """Decode a text export, guessing its encoding, and use '\\n' for every line end."""
    if not data.strip():
        raise FormatError("the file is empty", file=filename)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _decode_strict(data[len(bom):], encoding, filename)
            break
    else:
        _reject_binary(data, filename)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _decode_legacy(data)
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise FormatError("the file is empty", file=filename)
    return text


def _decode_strict(data: bytes, encoding: str, filename: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count("\n".encode(encoding)) + 1
        raise FormatError(
            f"the file starts with a {encoding.upper()} byte-order mark but is not valid "
            f"{encoding.upper()} text; re-save it as UTF-8",
            file=filename,
            line=line,
        ) from None


def _decode_legacy(data: bytes) -> str:
    # Windows-1252 is what Excel and older reference managers write; five of its bytes are
    # unassigned, and Latin-1 accepts those too, so the file always decodes.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _reject_binary(data: bytes, filename: str) -> None:
    head = data.lstrip()[:8]
    for magic, kind in _BINARY_KINDS:
        if head.startswith(magic):
            raise FormatError(f"this is {kind}, not a text export", file=filename)
    sample = data[:_SAMPLE_SIZE]
    if b"\x00" in sample:
        if _looks_like_utf16(sample):
            raise FormatError(
                "the file looks like UTF-16 text without a byte-order mark, which cannot be "
                "read reliably; re-save it as UTF-8",
                file=filename,
            )
        raise FormatError("the file is binary (it contains NUL bytes), not a text export",
                          file=filename)
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(2, len(sample) // 100):
        raise FormatError("the file is binary (it is full of control characters), "
                          "not a text export", file=filename)
    if b"\x00" in data:
        raise FormatError("the file contains NUL bytes after the first 64 KB; it is damaged "
                          "or not a text export", file=filename)


def _looks_like_utf16(sample: bytes) -> bool:
    """Tell UTF-16 text (every other byte NUL for Latin text) from other binary data."""
    even = sample[0::2]
    odd = sample[1::2]
    if not even or not odd:
        return False
    nul_even = even.count(0) / len(even)
    nul_odd = odd.count(0) / len(odd)
    return max(nul_even, nul_odd) > 0.3 and min(nul_even, nul_odd) < 0.05
