"""What an exported file itself says about the search behind it, to pre-fill its search record.

Database exports carry a little of their own history: Ovid names its platform and the
database's coverage ("Ovid MEDLINE(R) ALL <1946 to March 13, 2024>"), EBSCOhost writes
``DP  - EBSCOhost`` and a short database code (``psyh``), Scopus stamps every record with
``Export Date: 7 December 2022``, ProQuest heads its report with the date it was made, and
Web of Science plain text starts ``FN Clarivate Analytics Web of Science``.  Only what the
file states is used; nothing is guessed beyond a table of EBSCOhost's published codes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reviewkit.records import Record

__all__ = ["SearchHints", "search_hints"]

# EBSCOhost's short database codes (as in its RIS 'DB' field) for databases reviews often use.
EBSCO_CODES = {
    "psyh": "APA PsycInfo", "ecn": "EconLit", "eric": "ERIC", "cmedm": "MEDLINE",
    "rzh": "CINAHL", "cin20": "CINAHL Plus with Full Text", "aph": "Academic Search Premier", "a9h": "Academic Search Complete",
    "sih": "SocINDEX", "i3h": "Criminal Justice Abstracts", "egh": "Environment Index",
    "8gh": "GreenFILE", "buh": "Business Source Premier", "hch": "Health Source",
}
_OVID = re.compile(r"^DB  - (Ovid\s+)?(?P<name>[^<\r\n]+?)\s*(<(?P<coverage>[^>\r\n]*)>)?\s*$",
                   re.M)
_EXPORT_DATE = re.compile(r"Export Date:\s*(?P<date>[0-9]{1,2} [A-Z][a-z]+ [0-9]{4})")
_PROQUEST_DATE = re.compile(r"Report Information from ProQuest\s*\r?\n\s*(?P<date>[A-Z][a-z]+ "
                            r"[0-9]{1,2} [0-9]{4})")
_HEAD = 4096  # headers sit at the top of the file


@dataclass
class SearchHints:
    """Search record fields the file states, and where each came from (for the form)."""

    fields: dict[str, str] = field(default_factory=dict)
    found_in: dict[str, str] = field(default_factory=dict)  # field -> what in the file said so

    def add(self, name: str, value: str, where: str) -> None:
        if value and name not in self.fields:
            self.fields[name] = value
            self.found_in[name] = where


def _most_common(values: list[str]) -> str:
    values = [v.strip() for v in values if v and v.strip()]
    return Counter(values).most_common(1)[0][0] if values else ""


def search_hints(data: bytes, records: list[Record], format: str) -> SearchHints:
    """Read what the file (its bytes and parsed records) says about its search."""
    hints = SearchHints()
    text = data[:_HEAD * 64].decode("utf-8", "replace")
    ovid = [m for m in _OVID.finditer(text) if m.group(1)]
    if ovid:
        names = [m.group("name").strip() for m in ovid]
        hints.add("platform", "Ovid", "the DB field ('Ovid ...')")
        hints.add("database", _most_common(names), "the DB field")
        coverage = _most_common([m.group("coverage") or "" for m in ovid])
        segments = sorted(set(names))
        said = [f"Database coverage stated in the export: {coverage}."] if coverage else []
        if len(segments) > 1:
            said.append(f"Ovid segments in the export: {', '.join(segments)}.")
        if said:
            hints.add("notes", " ".join(said), "the DB field")
    platform = _most_common([v for r in records for v in r.extra.get("DP", [])
                             if not v.strip()[:4].isdigit()])
    if platform:
        hints.add("platform", platform, "the DP field")
    database = _most_common([r.database for r in records])
    if database.lower() in EBSCO_CODES:
        hints.add("database", EBSCO_CODES[database.lower()],
                  f"the DB field (EBSCOhost code '{database}')")
    if format == "wos" or text.lstrip("\ufeff").startswith("FN Clarivate"):
        hints.add("platform", "Web of Science", "the file's FN header")
    if format == "proquest":
        hints.add("platform", "ProQuest", "the report header")
        found = _PROQUEST_DATE.search(text)
        if found:
            hints.add("date_searched", f"{found.group('date')} (date of the export)",
                      "the report header")
    dates = _most_common([m.group("date") for r in records
                          for m in [_EXPORT_DATE.search(r.notes or "")] if m])
    if dates:
        hints.add("date_searched", f"{dates} (export date)", "the records' 'Export Date' note")
    return hints
