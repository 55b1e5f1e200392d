"""EPPI-Reviewer / EPPI-Mapper JSON: coded studies and the codes they carry.

The file EPPI-Reviewer exports (and EPPI-Mapper reads to draw a map) has two lists.
``CodeSets`` holds the coding tools: each set has ``SetId``, ``SetName`` and
``Attributes.AttributesList``, a tree of attributes (``AttributeId``, ``AttributeName``,
``AttributeType``; a child list again under ``Attributes.AttributesList``).  ``References``
holds the studies (``ItemId``, ``Title``, ``Authors`` as "Surname I; Surname I;" ...), each
with ``Codes``: the ``AttributeId`` of every attribute ticked for it, and ``AdditionalText``.

reviewkit writes one code set for the review's codebook: a parent attribute per scheme
(approach, outcome, design, domain; not selectable) whose children are the codes; an
outcome's directions of effect are children of that outcome, so a study's outcome and what
was found for it stay together.  Ids are numbered in codebook order, so the same codebook
always gives the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewkit.records import Record

SELECTABLE = "Selectable (show checkbox)"
NOT_SELECTABLE = "Not selectable (no checkbox)"
# EPPI-Reviewer's names for the kinds of work.
_TYPE_NAMES = {
    "journal article": "Journal, Article", "book": "Book, Whole", "book chapter": "Book, Chapter",
    "report": "Report", "conference paper": "Conference Proceedings", "thesis": "Dissertation",
    "web page": "Web Site", "dataset": "Generic", "other": "Generic",
}
DIRECTION_NAMES = {"positive": "Positive effect", "mixed": "Mixed effect",
                   "none": "No effect", "negative": "Negative effect"}


@dataclass(frozen=True)
class StudyCode:
    """One confirmed code on a study: scheme and code slug, with what was found for it."""

    scheme: str
    code: str
    direction: str = ""
    finding: str = ""


@dataclass
class CodedStudy:
    item_id: int
    record: Record
    codes: list[StudyCode] = field(default_factory=list)


@dataclass(frozen=True)
class CodeScheme:
    """A scheme of the codebook as the export needs it: name, label and (slug, label) codes."""

    name: str
    label: str
    codes: list[tuple[str, str, str]]  # (slug, label, description)


def _attribute(attribute_id: int, name: str, *, selectable: bool = True, description: str = "",
               children: list[dict] | None = None) -> dict:
    item = {"AttributeId": attribute_id, "AttributeName": name,
            "AttributeType": SELECTABLE if selectable else NOT_SELECTABLE,
            "AttributeTypeId": 2 if selectable else 1, "AttributeDescription": description,
            "AttributeSetId": attribute_id, "OriginalAttributeID": 0, "ExtURL": "", "ExtType": ""}
    if children is not None:
        item["Attributes"] = {"AttributesList": children}
    return item


def _authors(names: list[str]) -> str:
    return "".join(f"{name.strip()}; " for name in names if name.strip()).strip()


def _short_title(record: Record) -> str:
    first = record.authors[0].split(",")[0].strip() if record.authors else ""
    year = f"({record.year})" if record.year else ""
    return " ".join(part for part in (first, year) if part) or record.title[:40]


def write_eppi(studies: list[CodedStudy], schemes: list[CodeScheme], *,
               set_name: str = "reviewkit codebook") -> dict:
    """Build the EPPI JSON for ``studies`` coded with the codes of ``schemes``.

    A code a study carries that the schemes do not list is added to its scheme (by its slug),
    so that every code on a reference exists in the code set.
    """
    wanted = {(c.scheme, c.code) for s in studies for c in s.codes}
    schemes = [CodeScheme(s.name, s.label, list(s.codes)) for s in schemes]
    by_name = {s.name: s for s in schemes}
    for scheme, code in sorted(wanted):
        if scheme not in by_name:
            by_name[scheme] = CodeScheme(scheme, scheme.replace("_", " ").capitalize(), [])
            schemes.append(by_name[scheme])
        if all(slug != code for slug, _, _ in by_name[scheme].codes):
            by_name[scheme].codes.append((code, code.replace("_", " "), ""))

    next_id = 1
    ids: dict[tuple[str, ...], int] = {}
    tree = []
    for scheme in schemes:
        parent_id = next_id
        next_id += 1
        children = []
        for slug, label, description in scheme.codes:
            code_id = next_id
            next_id += 1
            ids[(scheme.name, slug)] = code_id
            directions = None
            if scheme.name == "outcome":
                directions = []
                for direction, name in DIRECTION_NAMES.items():
                    ids[(scheme.name, slug, direction)] = next_id
                    directions.append(_attribute(next_id, f"{label}: {name.lower()}"))
                    next_id += 1
            children.append(_attribute(code_id, label, description=description,
                                       children=directions))
        tree.append(_attribute(parent_id, scheme.label, selectable=False, children=children))

    references = []
    for study in studies:
        rec = study.record
        codes = []
        for code in study.codes:
            codes.append(_code(ids[(code.scheme, code.code)], code.finding))
            direction_id = ids.get((code.scheme, code.code, code.direction))
            if direction_id is not None:
                codes.append(_code(direction_id, code.finding))
        references.append({
            "ItemId": study.item_id, "Title": rec.title, "ParentTitle": rec.journal,
            "ShortTitle": _short_title(rec), "Year": str(rec.year or ""),
            "Authors": _authors(rec.authors), "ParentAuthors": "", "Volume": rec.volume,
            "Issue": rec.issue, "Pages": rec.pages, "DOI": rec.doi, "URL": rec.url,
            "Abstract": rec.abstract, "Keywords": "; ".join(rec.keywords),
            "Publisher": rec.publisher, "City": rec.place_published,
            "StandardNumber": rec.issn or rec.isbn,
            "TypeName": _TYPE_NAMES.get(rec.record_type, "Generic"),
            "Codes": codes, "Outcomes": [],
        })
    code_set = {"SetName": set_name, "SetId": 1, "ReviewSetId": 1,
                "SetType": {"SetTypeName": "Standard"},
                "Attributes": {"AttributesList": tree}}
    return {"CodeSets": [code_set], "References": references}


def _code(attribute_id: int, text: str) -> dict:
    return {"AttributeId": attribute_id, "AdditionalText": text, "ArmId": 0, "ArmTitle": "",
            "ItemAttributeFullTextDetails": []}


def _walk(attributes: dict, where: str, problems: list[str], seen: dict[int, str]) -> None:
    items = attributes.get("AttributesList") if isinstance(attributes, dict) else None
    if not isinstance(items, list):
        problems.append(f"{where}: 'Attributes' needs an 'AttributesList' list")
        return
    for n, item in enumerate(items, 1):
        here = f"{where} > attribute {n}"
        if not isinstance(item, dict):
            problems.append(f"{here}: not an object")
            continue
        attribute_id = item.get("AttributeId")
        if not isinstance(attribute_id, int):
            problems.append(f"{here}: 'AttributeId' must be a whole number")
        elif attribute_id in seen:
            problems.append(f"{here}: AttributeId {attribute_id} is used twice")
        else:
            seen[attribute_id] = str(item.get("AttributeName", ""))
        if not str(item.get("AttributeName", "")).strip():
            problems.append(f"{here}: 'AttributeName' is empty")
        if "Attributes" in item:
            _walk(item["Attributes"], f"{here} ({item.get('AttributeName', '')})", problems, seen)


def check_eppi(data: dict) -> list[str]:
    """List what in ``data`` does not follow the EPPI JSON structure (empty when it all does).

    Checked: the two top-level lists, every code set's attribute tree (ids whole numbers,
    unique, names given), every reference's ``ItemId`` (unique) and ``Codes``, and that each
    code on a reference names an attribute of a code set.
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["the file is not a JSON object"]
    sets = data.get("CodeSets")
    references = data.get("References")
    if not isinstance(sets, list):
        problems.append("'CodeSets' must be a list")
        sets = []
    if not isinstance(references, list):
        problems.append("'References' must be a list")
        references = []
    seen: dict[int, str] = {}
    for n, code_set in enumerate(sets, 1):
        where = f"code set {n}"
        if not isinstance(code_set, dict) or not str(code_set.get("SetName", "")).strip():
            problems.append(f"{where}: needs a 'SetName'")
            continue
        _walk(code_set.get("Attributes"), f"{where} ({code_set['SetName']})", problems, seen)
    items: set = set()
    for n, reference in enumerate(references, 1):
        where = f"reference {n}"
        if not isinstance(reference, dict):
            problems.append(f"{where}: not an object")
            continue
        item_id = reference.get("ItemId")
        if item_id in items:
            problems.append(f"{where}: ItemId {item_id} is used twice")
        items.add(item_id)
        if not isinstance(reference.get("Codes"), list):
            problems.append(f"{where}: 'Codes' must be a list")
            continue
        for code in reference["Codes"]:
            attribute_id = code.get("AttributeId") if isinstance(code, dict) else None
            if attribute_id not in seen:
                problems.append(f"{where} (ItemId {item_id}): code {attribute_id!r} is in no "
                                "code set")
    return problems
