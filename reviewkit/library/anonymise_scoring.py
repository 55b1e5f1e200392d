"""Score a personal-detail finder on labelled stories: what it hid, and what it hid wrongly.

A planted detail counts as caught when every letter and digit of it is covered by some flag
(of any kind: hiding is what matters).  A flag is correct when it overlaps a planted detail;
a flag over nothing planted is a false alarm.  Stories come from a YAML file such as
``tests/data/anonymise_stories.yaml``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewkit import yaml_text
from reviewkit.errors import ReviewkitError
from reviewkit.library.anonymise import Flag

DETAIL_KINDS = ("first_name", "full_name", "nickname", "address", "street", "postcode",
                "phone", "email", "date_of_birth", "nhs_number", "workplace")


@dataclass(frozen=True)
class LabelledStory:
    id: str
    split: str
    place: str
    text: str
    details: tuple[tuple[str, str], ...]  # (kind, exact text)
    keep: tuple[str, ...] = ()


def read_labelled_stories(path: str | Path) -> list[LabelledStory]:
    """Read labelled stories; raise ReviewkitError naming the story whose label is wrong."""
    data = yaml_text.load(Path(path).read_text(encoding="utf-8")) or []
    stories = []
    for item in data:
        details = []
        for kind, found in (item.get("details") or {}).items():
            if kind not in DETAIL_KINDS:
                raise ReviewkitError(f"{path}: story {item['id']} has an unknown kind '{kind}'.")
            for text in found:
                if str(text) not in item["text"]:
                    raise ReviewkitError(f"{path}: story {item['id']}: '{text}' is not in "
                                         "its text.")
                details.append((kind, str(text)))
        stories.append(LabelledStory(id=item["id"], split=item["split"], place=item["place"],
                                     text=item["text"], details=tuple(details),
                                     keep=tuple(item.get("keep") or ())))
    return stories


@dataclass
class Score:
    """Counts behind recall and precision, overall and per kind of planted detail."""

    planted: Counter
    caught: Counter
    flags: int = 0
    correct_flags: int = 0
    kept_broken: int = 0
    missed: list = None
    false_alarms: list = None

    @property
    def recall(self) -> float:
        total = sum(self.planted.values())
        return sum(self.caught.values()) / total if total else 1.0

    @property
    def precision(self) -> float:
        return self.correct_flags / self.flags if self.flags else 1.0

    def recall_of(self, kind: str) -> float | None:
        return self.caught[kind] / self.planted[kind] if self.planted[kind] else None


def _spans(text: str, found: str) -> list[tuple[int, int]]:
    spans, start = [], text.find(found)
    while start >= 0:
        spans.append((start, start + len(found)))
        start = text.find(found, start + 1)
    return spans


def _covered(text: str, span: tuple[int, int], flags: list[Flag]) -> bool:
    for position in range(*span):
        if text[position].isalnum() and not any(f.start <= position < f.end for f in flags):
            return False
    return True


def score_finder(find: Callable[[str], list[Flag]], stories: list[LabelledStory]) -> Score:
    """Run ``find`` on every story and count what it caught and what it flagged."""
    score = Score(planted=Counter(), caught=Counter(), missed=[], false_alarms=[])
    for story in stories:
        flags = find(story.text)
        planted_spans = []
        for kind, found in story.details:
            spans = _spans(story.text, found)
            planted_spans.extend(spans)
            score.planted[kind] += 1
            if all(_covered(story.text, span, flags) for span in spans):
                score.caught[kind] += 1
            else:
                score.missed.append((story.id, kind, found))
        for flag in flags:
            score.flags += 1
            if any(flag.start < end and start < flag.end for start, end in planted_spans):
                score.correct_flags += 1
            else:
                score.false_alarms.append((story.id, flag.kind, flag.text))
        for kept in story.keep:
            if any(_overlaps(span, flags) for span in _spans(story.text, kept)):
                score.kept_broken += 1
    return score


def _overlaps(span: tuple[int, int], flags: list[Flag]) -> bool:
    return any(f.start < span[1] and span[0] < f.end for f in flags)
