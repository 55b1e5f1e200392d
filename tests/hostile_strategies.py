"""Hostile and broken inputs for the importers, as hypothesis strategies, and the check they face.

Shared by tests/test_hostile.py (a few hundred examples per property) and
benchmarks/hostile.py (thousands).  Every strategy gives ``(filename, bytes)``; the check,
:func:`read_outcome`, says whether the readers returned clean records or refused the file with
a ReviewkitError naming it, and raises on anything else.
"""

from __future__ import annotations

import csv
import io
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from reviewkit.errors import ReviewkitError
from reviewkit.formats import read_records
from reviewkit.formats.fields import TEXT_FIELDS
from reviewkit.formats.ris import KNOWN_TAGS
from reviewkit.records import Record

# Characters that break naive parsers: NUL and other C0/C1 controls, every kind of line end,
# a lone surrogate, a byte-order mark, zero-width and direction marks, markup and quoting.
NASTY_CHARACTERS = (
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1a", "\x1b", "\x7f", "\x85", "\x9f",
    "\r", "\n", "\r\n", "\t", "\u2028", "\u2029", "\ud800", "\udfff", "\ufeff", "\u200b",
    "\u202e", "\ufffd", "{", "}", "\\", "%", "&", "#", "$", "~", "_", "^", '"', "'", ",", ";",
    "<", ">", "@", "=", "-", " - ", "  - ", "&amp;", "&#0;", "&lt;script&gt;", "]]>",
    "<script>alert(1)</script>", "'; DROP TABLE records; --",
)

# Unicode text including unassigned, private-use and surrogate code points.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)

# Field values: mostly words, salted with the characters above, sometimes very long.
nasty_value = st.one_of(
    st.text(st.sampled_from("abc xyz éü漢字0123456789.,:;()-"), max_size=40),
    st.lists(st.one_of(st.sampled_from(NASTY_CHARACTERS), any_text), max_size=8).map("".join),
    st.builds(lambda word, n: word * n, st.sampled_from(["a", "{", "ab ", "\u00e9", "x\\"]),
              st.integers(1000, 60_000)),
)

LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\r"])


def _encode(text: str, encoding: str) -> bytes:
    # 'surrogatepass' lets a lone surrogate reach the bytes, as a broken exporter would write it.
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "cp1252":
        return text.encode("cp1252", "replace")
    if encoding == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8-bom", "cp1252", "utf-16"])


@st.composite
def ris_files(draw) -> tuple[str, bytes]:
    """RIS records with known and made-up tags and hostile values, in any line ending."""
    tags = st.one_of(st.sampled_from(sorted(KNOWN_TAGS - {"TY", "ER"})),
                     st.from_regex(r"[A-Z][A-Z0-9]", fullmatch=True))
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        lines.append(f"TY  - {draw(st.sampled_from(['JOUR', 'BOOK', 'CHAP', 'XYZ', '']))}")
        for tag, value in draw(st.lists(st.tuples(tags, nasty_value), max_size=12)):
            lines.append(f"{tag}  - {value}")
        if draw(st.integers(0, 9)):  # now and then a record is left without its end tag
            lines.append("ER  - ")
        lines.append("")
    text = draw(LINE_ENDS).join(lines)
    return "hostile.ris", _encode(text, draw(ENCODINGS))


def _bib_value(value: str, style: str) -> str:
    if style == "braces":
        return "{" + value + "}"
    if style == "quotes":
        return '"' + value + '"'
    return value  # bare: a number, a month macro, or anything a broken file holds


@st.composite
def bibtex_files(draw) -> tuple[str, bytes]:
    """BibTeX entries with random types, keys, field names and values (braces unbalanced too)."""
    entries = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["article", "book", "incollection", "misc", "ARTICLE",
                                     "string", "comment", "preamble", "x"]))
        key = draw(st.one_of(st.from_regex(r"[a-z][a-z0-9:_-]{0,12}", fullmatch=True),
                             st.text(max_size=6)))
        names = st.one_of(st.sampled_from(["title", "author", "year", "journal", "doi", "pages",
                                           "abstract", "keywords", "url", "editor", "month"]),
                          st.from_regex(r"[A-Za-z][\w:.+-]{0,10}", fullmatch=True))
        fields = draw(st.lists(st.tuples(names, nasty_value,
                                         st.sampled_from(["braces", "braces", "quotes", "bare"])),
                               max_size=10))
        body = ",\n".join(f"  {name} = {_bib_value(value, style)}" for name, value, style in fields)
        entries.append(f"@{kind}{{{key},\n{body}\n}}")
    text = draw(LINE_ENDS).join(entries)
    return "hostile.bib", _encode(text, draw(ENCODINGS))


@st.composite
def deep_bibtex_files(draw) -> tuple[str, bytes]:
    """One entry whose title nests braces (or LaTeX commands) thousands deep, maybe unbalanced."""
    depth = draw(st.integers(1, 20_000))
    opener = draw(st.sampled_from(["{", "\\textbf{", "{\\em ", "$^{"]))
    missing = draw(st.sampled_from([0, 0, 0, 1, depth]))
    title = opener * depth + "Deep title" + "}" * (depth - missing)
    text = f"@article{{deep{depth},\n  title = {{{title}}},\n  year = {{2020}}\n}}\n"
    return "deep.bib", text.encode("utf-8")


MEDLINE_TAGS = ("PMID", "TI", "AB", "FAU", "AU", "DP", "JT", "TA", "VI", "IP", "PG", "LID",
                "AID", "IS", "OT", "MH", "PT", "LA", "PL")


@st.composite
def medline_files(draw) -> tuple[str, bytes]:
    """MEDLINE (.nbib) records with hostile values and continuation lines."""
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        lines = [f"PMID- {draw(st.integers(1, 10**9))}"]
        for tag, value in draw(st.lists(st.tuples(st.sampled_from(MEDLINE_TAGS), nasty_value),
                                        max_size=10)):
            first, *rest = value.split("\n") or [""]
            lines.append(f"{tag:<4}- {first}")
            lines.extend("      " + more for more in rest)
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks).replace("\n", draw(LINE_ENDS))
    return "hostile.nbib", _encode(text, draw(ENCODINGS))


ENDNOTE_PATHS = ("titles/title", "titles/secondary-title", "contributors/authors/author",
                 "dates/year", "abstract", "keywords/keyword", "urls/related-urls/url",
                 "electronic-resource-num", "pages", "volume", "notes", "isbn",
                 "remote-database-name", "accession-num", "made-up-element")


def _xml_element(path: str, value: str) -> str:
    parts = path.split("/")
    return ("".join(f"<{p}>" for p in parts) + f"<style>{escape(value)}</style>"
            + "".join(f"</{p}>" for p in reversed(parts)))


@st.composite
def endnote_files(draw) -> tuple[str, bytes]:
    """EndNote XML records with escaped hostile values (control characters make it invalid)."""
    records = []
    for number in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["Journal Article", "Book", "Generic", "", "Thesis"]))
        fields = draw(st.lists(st.tuples(st.sampled_from(ENDNOTE_PATHS), nasty_value),
                               max_size=10))
        body = "".join(_xml_element(path, value) for path, value in fields)
        records.append(f'<record><rec-number>{number}</rec-number>'
                       f'<ref-type name="{escape(kind)}">17</ref-type>{body}</record>')
    text = '<?xml version="1.0" encoding="UTF-8"?><xml><records>' + "".join(records) + \
        "</records></xml>"
    if draw(st.booleans()):
        text = text[: draw(st.integers(1, len(text)))]  # cut short
    return "hostile.xml", text.encode("utf-8", "surrogatepass")


@st.composite
def table_files(draw) -> tuple[str, bytes]:
    """CSV or TSV with a title column among hostile headers, and hostile cells."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 8))
    headers = ["Title"] + draw(st.lists(nasty_value.filter(lambda v: len(v) < 200),
                                        min_size=width - 1, max_size=width - 1))
    rows = draw(st.lists(st.lists(nasty_value, min_size=width, max_size=width),
                         min_size=1, max_size=5))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(LINE_ENDS))
    writer.writerow(headers)
    writer.writerows(rows)
    name = "hostile.tsv" if delimiter == "\t" else "hostile.csv"
    return name, _encode(out.getvalue(), draw(ENCODINGS))


@st.composite
def wide_files(draw) -> tuple[str, bytes]:
    """One record with thousands of fields, in a format picked at random."""
    count = draw(st.integers(1000, 6000))
    value = draw(st.sampled_from(["v", "x" * 500, "ü{}\\%", "<b>bold</b>"]))
    kind = draw(st.sampled_from(["ris", "bibtex", "medline", "csv"]))
    if kind == "ris":
        text = "TY  - JOUR\nTI  - Wide\n" + "".join(f"N1  - {value}{i}\n" for i in range(count))
        return "wide.ris", (text + "ER  - \n").encode()
    if kind == "bibtex":
        body = "".join(f"  f{i} = {{{value}{i}}},\n" for i in range(count))
        return "wide.bib", f"@article{{wide,\n  title = {{Wide}},\n{body}}}\n".encode()
    if kind == "medline":
        text = "PMID- 1\nTI  - Wide\n" + "".join(f"OT  - {value}{i}\n" for i in range(count))
        return "wide.nbib", text.encode()
    header = ",".join(["title"] + [f"c{i}" for i in range(count)])
    row = ",".join(["Wide"] + [f'"{value}{i}"' for i in range(count)])
    return "wide.csv", f"{header}\n{row}\n".encode()


@st.composite
def wos_files(draw) -> tuple[str, bytes]:
    """Web of Science plain text: two-letter tags, indented continuations, hostile values."""
    tags = st.one_of(st.sampled_from(["AU", "AF", "TI", "SO", "AB", "DE", "ID", "PY", "DI",
                                      "UT", "C1", "CR"]),
                     st.from_regex(r"[A-Z][A-Z0-9]", fullmatch=True))
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for _ in range(draw(st.integers(1, 4))):
        lines.append(f"PT {draw(st.sampled_from(['J', 'B', 'S', 'C', 'X', '']))}")
        for tag, value, more in draw(st.lists(st.tuples(tags, nasty_value, st.lists(
                nasty_value, max_size=2)), max_size=10)):
            lines.append(f"{tag} {value}")
            lines.extend(f"   {line}" for line in more)
        if draw(st.integers(0, 9)):
            lines.append("ER")
        lines.append("")
    lines.append("EF")
    return "savedrecs.txt", _encode(draw(LINE_ENDS).join(lines), draw(ENCODINGS))


@st.composite
def refer_files(draw) -> tuple[str, bytes]:
    """EndNote tagged (.enw) records: '%X value' lines and untagged follow-on lines."""
    tags = st.sampled_from(list("0TADJVNPRXKU@ICGM~FZB8") + ["!", ">"])
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        lines.append("%0 " + draw(st.sampled_from(["Journal Article", "Book Section", "Xyz"])))
        for tag, value, more in draw(st.lists(st.tuples(tags, nasty_value, st.lists(
                nasty_value, max_size=2)), max_size=10)):
            lines.append(f"%{tag} {value}")
            lines.extend(line for line in more if line.strip() and not line.startswith("%"))
        lines.append("")
    return "export.enw", _encode(draw(LINE_ENDS).join(lines), draw(ENCODINGS))


@st.composite
def excel_files(draw) -> tuple[str, bytes]:
    """An .xlsx workbook of hostile cells, sometimes with a few of its bytes changed."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value: str) -> str:
        value = value.encode("utf-8", "ignore").decode("utf-8")  # no lone surrogates
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:32_000]  # what a sheet can hold

    book = Workbook()
    sheet = book.active
    header = draw(st.lists(st.one_of(st.sampled_from(["Title", "Authors", "Year", "DOI",
                                                      "Article Title", "Abstract"]),
                                     nasty_value.map(cell)), min_size=1, max_size=6))
    header = [h or "column" for h in header]
    sheet.append(header)
    for row in draw(st.lists(st.lists(st.one_of(nasty_value.map(cell), st.integers(),
                                                st.floats(allow_nan=False)), max_size=8),
                             max_size=4)):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = bytearray(buffer.getvalue())
    for where, value in draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                st.integers(0, 255)), max_size=3)):
        data[int(where * len(data))] = value
    return "results.xlsx", bytes(data)


@st.composite
def arbitrary_files(draw) -> tuple[str, bytes]:
    """Random bytes, or random Unicode text, under a random export's file name."""
    name = draw(st.sampled_from(["x.ris", "x.bib", "x.nbib", "x.xml", "x.csv", "x.tsv",
                                 "x.txt", "x.pdf", "noextension"]))
    data = draw(st.one_of(
        st.binary(max_size=2000),
        st.builds(_encode, any_text, ENCODINGS),
        st.builds(lambda head, tail: head + tail,
                  st.sampled_from([b"TY  - JOUR\n", b"@article{", b"PMID- 1\n", b"<xml><records>",
                                   b"title,year\n", b"%PDF-1.4\n", b"\xef\xbb\xbf",
                                   b"\xff\xfe", b"PK\x03\x04", b"FN Clarivate\nVR 1.0\nPT J\n",
                                   b"%0 Journal Article\n%T ", b"Document 1 of 1\n\n",
                                   b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]),
                  st.binary(max_size=2000)),
    ))
    return name, data


# Each importer's strategy; the benchmark counts inputs per key.
STRATEGIES = {
    "ris": ris_files(),
    "bibtex": bibtex_files(),
    "bibtex_deep": deep_bibtex_files(),
    "medline": medline_files(),
    "endnote_xml": endnote_files(),
    "csv_tsv": table_files(),
    "wide": wide_files(),
    "wos": wos_files(),
    "refer": refer_files(),
    "excel": excel_files(),
    "arbitrary": arbitrary_files(),
}
any_file = st.one_of(*STRATEGIES.values())


class Hang(Exception):
    """A read ran past its time limit."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise Hang if the block runs longer than ``seconds`` (main thread, Unix only)."""

    def _alarm(signum, frame):
        raise Hang(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# Unicode's control characters (category Cc: C0, DEL and C1) other than tab and newline, and
# its surrogates (Cs); a pattern, since asking unicodedata character by character took 9 s of
# this file's run (test_hostile.py checks the two agree on every code point)
_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _bad_characters(value: str) -> list[str]:
    """Controls other than tab and newline, and lone surrogates (no database can store those)."""
    return _BAD.findall(value)


def record_problems(record: Record) -> list[str]:
    """Say which text of a read record holds forbidden characters (empty when it is clean)."""
    texts = [(name, getattr(record, name)) for name in (*TEXT_FIELDS, "record_type")]
    texts += [("authors", a) for a in record.authors] + [("keywords", k) for k in record.keywords]
    texts += [("full_text", record.full_text)]
    for key, values in record.extra.items():
        texts.append(("extra key", key))
        texts += [(f"extra {key!r}", v) for v in values]
    return [f"{name}: {value[:80]!r}" for name, value in texts
            if isinstance(value, str) and _bad_characters(value)]


def read_outcome(filename: str, data: bytes, *, seconds: int = 30) -> str:
    """Read a file and return 'read' or 'refused'; raise AssertionError if the contract breaks.

    The contract: clean records, or a ReviewkitError whose message names the file, within
    ``seconds``.  Any other exception propagates to the caller.
    """
    with time_limit(seconds):
        try:
            records = read_records(data, filename=filename)
        except ReviewkitError as exc:
            if filename not in str(exc):
                raise AssertionError(f"the message does not name the file: {exc}") from exc
            return "refused"
    assert records, "a read that succeeds returns at least one record"
    for record in records:
        problems = record_problems(record)
        assert not problems, f"unclean text in a record read from {filename}: {problems}"
    return "read"


def tiny_pdf(text: bytes, *, title: bytes = b"") -> bytes:
    """Build a one-page PDF by hand whose text layer holds ``text`` exactly (any bytes)."""
    literal = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 12 Tf 40 700 Td (" + literal + b") Tj ET"
    info = b"<< /Title (" + title.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(
        b")", b"\\)") + b") >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


_PDF_WORDS = (b"Community resilience and neighbourhood wellbeing in older adults, "
              b"a mixed methods evaluation of local decisions. doi 10.1000/x.1 ")


@st.composite
def pdf_files(draw) -> tuple[str, bytes]:
    """Hand-made PDFs whose text holds control bytes, then cut, flipped or padded at random."""
    salt = draw(st.binary(max_size=40))
    text = _PDF_WORDS + salt + draw(st.sampled_from([b"", b"\x00\x01\x02", b"\x1b[31m"]))
    data = bytearray(tiny_pdf(text, title=draw(st.binary(max_size=30))))
    damage = draw(st.sampled_from(["none", "cut", "flip", "insert"]))
    if damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif damage == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=200))
    return "hostile.pdf", bytes(data)


STRATEGIES["pdf"] = pdf_files()
any_file = st.one_of(*STRATEGIES.values())
