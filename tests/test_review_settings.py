"""Review settings: declared once, set at creation and later, enforced by the store."""

from __future__ import annotations

import pytest

from reviewkit.cli import main
from reviewkit.errors import ReviewkitError
from reviewkit.records import Record
from reviewkit.review_settings import (
    DEFAULT_EXCLUSION_REASONS,
    SETTINGS,
    change_settings,
    exclusion_reasons,
    setting_value,
)
from reviewkit.screening.agreement import is_blinded
from reviewkit.store import Store

FT = "full_text"


def _review_with_records(store, name="New review", n=3):
    review = store.create_review(name)
    store.add_import(review.id, [Record(title=f"Study {i}") for i in range(n)],
                     filename="a.ris", format="ris", sha256="a" * 64, size_bytes=1)
    return review, store.kept_record_ids(review.id)


def test_a_new_review_starts_with_the_default_reasons(store):
    review, ids = _review_with_records(store)
    assert exclusion_reasons(review) == list(DEFAULT_EXCLUSION_REASONS)
    decided = store.add_decision(ids[0], stage=FT, decision="exclude", reviewer="ana",
                                 reason="wrong  OUTCOME")
    assert decided.reason == "Wrong outcome"  # stored in the review's own spelling


def test_the_store_refuses_a_full_text_exclusion_without_a_listed_reason(store):
    review, ids = _review_with_records(store)
    with pytest.raises(ReviewkitError, match="needs a reason"):
        store.add_decision(ids[0], stage=FT, decision="exclude", reviewer="ana")
    with pytest.raises(ReviewkitError, match="'Too long' is not one of"):
        store.add_decision(ids[0], stage=FT, decision="exclude", reviewer="ana",
                           reason="Too long")
    assert store.current_decisions(review.id, stage=FT) == []
    # title-and-abstract exclusions and other full-text calls need no reason
    store.add_decision(ids[1], stage="title_abstract", decision="exclude", reviewer="ana")
    store.add_decision(ids[1], stage=FT, decision="include", reviewer="ana")
    # a reason the lead adds later is accepted from then on
    review = change_settings(store, review, {"exclusion_reasons": "Too long\nWrong outcome"},
                             actor="admin")
    assert store.add_decision(ids[0], stage=FT, decision="exclude", reviewer="ana",
                              reason="too long").reason == "Too long"


def test_changing_settings_logs_only_real_changes_and_refuses_bad_values(store):
    review, _ = _review_with_records(store)
    before = len(store.audit_entries(review.id))
    review = change_settings(store, review, {
        "question": "  Does green space help?  ", "inclusion_criteria": "Adults\n\nUK",
        "keywords_include": ["park", "park", "green space"], "reviewers_required": "2",
        "split_screening": "on"}, actor="admin")
    assert review.question == "Does green space help?"
    assert review.inclusion_criteria == "Adults\nUK"
    assert setting_value(review, "keywords_include") == ["park", "green space"]
    assert setting_value(review, "reviewers_required") == 2
    assert setting_value(review, "split_screening") is True
    assert is_blinded(review)  # automatic: two reviewers per record
    assert len(store.audit_entries(review.id)) == before + 1
    same = change_settings(store, review, {s.name: setting_value(review, s.name)
                                           for s in SETTINGS if s.name != "blind"}, actor="admin")
    assert len(store.audit_entries(review.id)) == before + 1
    assert not is_blinded(change_settings(store, same, {"blind": "off"}, actor="admin"))
    for bad, message in (({"reviewers_required": "3"}, "one of 1, 2"),
                         ({"split_screening": "perhaps"}, "on or off"),
                         ({"exclusion_reasons": ""}, "at least one reason"),
                         ({"colour": "red"}, "no review setting called 'colour'")):
        with pytest.raises(ReviewkitError, match=message):
            change_settings(store, review, bad, actor="admin")


def test_cli_creates_shows_and_changes_settings(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--database", url, "settings", "--review", "Parks", "--create",
                 "--set", "exclusion_reasons=Not a park|Wrong outcome",
                 "--set", "keywords_exclude=mouse|rat", "--set", "reviewers_required=2"]) == 0
    review = Store(url).get_review("Parks")
    assert exclusion_reasons(review) == ["Not a park", "Wrong outcome"]
    assert setting_value(review, "keywords_exclude") == ["mouse", "rat"]
    capsys.readouterr()
    assert main(["--database", url, "settings", "--review", "Parks"]) == 0
    shown = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert shown["exclusion_reasons"] == "Not a park | Wrong outcome"
    assert shown["blind"] == "on" and shown["reviewers_required"] == "2"
    assert main(["--database", url, "settings", "--review", "Parks",
                 "--set", "reviewers_required=5"]) == 1
    assert "must be one of 1, 2" in capsys.readouterr().err
    assert main(["--database", url, "settings", "--review", "Nowhere"]) == 1
    assert "--create" in capsys.readouterr().err
