"""What a lenient reader noticed: lines it ignored, tags it moved, values it shortened.

The readers read what can be read and refuse a file only when nothing bibliographic is in it.
Whatever they had to skip or repair is noted here, grouped by what happened, with the line
numbers, so that the person importing sees it before confirming (and the CLI prints it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Line numbers listed per kind of note; the rest are counted.
_LINES_SHOWN = 8
_EXAMPLE_LENGTH = 70


@dataclass
class NoteGroup:
    """One kind of oddity in a file: how often it happened, where first, and an example."""

    what: str
    count: int = 0
    lines: list[int] = field(default_factory=list)
    example: str = ""
    unit: str = "line"  # what the numbers in ``lines`` count: "line" or "record"

    def __str__(self) -> str:
        where = ""
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines)
            more = self.count - len(self.lines)
            label = self.unit if self.count == 1 else f"{self.unit}s"
            where = f"{label} {shown}" + (f" and {more:,} more" if more > 0 else "")
        elif self.count > 1:
            where = f"{self.count:,} times"
        example = f" (e.g. {self.example!r})" if self.example else ""
        return f"{where}: {self.what}{example}" if where else f"{self.what}{example}"


@dataclass
class ReadNotes:
    """Collects the notes of one file's read; cost stays linear however many there are."""

    groups: dict[str, NoteGroup] = field(default_factory=dict)

    def add(self, what: str, *, line: int | None = None, record: int | None = None,
            example: str = "") -> None:
        """Note that ``what`` happened at ``line`` (or in ``record``), keeping one example."""
        group = self.groups.get(what)
        if group is None:
            group = self.groups[what] = NoteGroup(what, unit="line" if record is None
                                                  else "record")
        group.count += 1
        place = line if line is not None else record
        if place is not None and len(group.lines) < _LINES_SHOWN:
            group.lines.append(place)
        if example and not group.example:
            example = " ".join(example.split())
            if len(example) > _EXAMPLE_LENGTH:
                example = example[: _EXAMPLE_LENGTH - 1] + "…"
            group.example = example

    def __len__(self) -> int:
        return sum(group.count for group in self.groups.values())

    def __bool__(self) -> bool:
        return bool(self.groups)

    def lines(self) -> list[str]:
        """Return one plain sentence per kind of note, in the order they were first met."""
        return [str(group) for group in self.groups.values()]
