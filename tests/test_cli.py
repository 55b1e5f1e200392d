"""The command line, run as a user runs it: ``python -m reviewkit ...`` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewkit.accounts import CHEAP_HASHES_FOR_TESTS
from tests.conftest import ROOT
from tests.test_importing import GOOD_RIS

DEMO = ROOT / "corpora" / "demo"


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("REVIEWKIT_") or k == CHEAP_HASHES_FOR_TESTS}
    environment.update(env or {}, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "reviewkit", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_import_then_export_each_format(tmp_path):
    (tmp_path / "a.ris").write_text(GOOD_RIS, encoding="utf-8")
    done = run_cli("import", "a.ris", "--review", "Resilience", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 records imported" in done.stdout
    assert (tmp_path / "data" / "reviewkit.sqlite").exists(), "default database is ./data"

    done = run_cli("export", "--review", "Resilience", "--format", "csv", "--output", "out.csv",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert [r["title"] for r in rows] == ["Neighbourhood system resilience", "Developing resilient communities"]
    assert rows[0]["doi"] == "10.1000/nsr.1" and rows[0]["year"] == "2023"
    assert rows[0]["record_id"]

    for fmt, marker in (("ris", "TY  - "), ("bibtex", "@")):
        done = run_cli("export", "--review", "Resilience", "--format", fmt, "--output", f"out.{fmt}",
                       cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / f"out.{fmt}").read_text(encoding="utf-8-sig").lstrip().startswith(marker)


def test_database_option_before_or_after_the_command(tmp_path):
    (tmp_path / "a.ris").write_text(GOOD_RIS, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    assert run_cli("import", "a.ris", "--review", "R", "--database", url, cwd=tmp_path).returncode == 0
    listed = run_cli("--database", url, "reviews", cwd=tmp_path)
    assert listed.stdout.strip() == "R\t2 records"
    from_env = run_cli("reviews", cwd=tmp_path, env={"REVIEWKIT_DATABASE_URL": url})
    assert from_env.stdout.strip() == "R\t2 records"
    assert not (tmp_path / "data").exists()


def test_failed_import_exits_non_zero_with_message_on_stderr(tmp_path):
    (tmp_path / "cut.ris").write_text("Provider: Example\nno records were exported\n",
                                      encoding="utf-8")
    done = run_cli("import", "cut.ris", "--review", "R", cwd=tmp_path)
    assert done.returncode == 1
    assert "cut.ris" in done.stderr and "nothing stored" in done.stderr
    assert run_cli("reviews", cwd=tmp_path).stdout.strip() == "R\t0 records"


def test_import_prints_what_the_reader_repaired_with_line_numbers(tmp_path):
    (tmp_path / "cut.ris").write_text(GOOD_RIS.rsplit("ER  -", 1)[0], encoding="utf-8")
    done = run_cli("import", "cut.ris", "--review", "R", cwd=tmp_path)
    assert done.returncode == 0
    assert "cut.ris: 2 records imported" in done.stdout
    assert ("cut.ris: note: line 10: the last record has no 'ER  -' end tag (the file may be "
            "cut short)") in done.stderr


def test_same_file_twice_exits_three(tmp_path):
    (tmp_path / "a.ris").write_text(GOOD_RIS, encoding="utf-8")
    assert run_cli("import", "a.ris", "--review", "R", cwd=tmp_path).returncode == 0
    again = run_cli("import", "a.ris", "--review", "R", cwd=tmp_path)
    assert again.returncode == 3 and "already imported" in again.stderr
    assert run_cli("reviews", cwd=tmp_path).stdout.strip() == "R\t2 records"


def test_missing_review_on_export_is_a_clear_error(tmp_path):
    done = run_cli("export", "--review", "Nope", "--format", "ris", "--output", "x.ris", cwd=tmp_path)
    assert done.returncode == 1 and "no review called 'Nope'" in done.stderr


def _demo_exports() -> list[str]:
    # The files the demo review imports (screening.csv beside them holds its decisions).
    if not DEMO.exists():
        return []
    definition = json.loads((DEMO / "review.json").read_text(encoding="utf-8"))
    return sorted(item["path"] for item in definition["files"])


@pytest.mark.parametrize("path", _demo_exports())
def test_every_demo_export_imports_with_format_detected_from_content(tmp_path, path):
    # copy under a neutral name: detection must not lean on the extension
    (tmp_path / "export.dat").write_bytes((DEMO / path).read_bytes())
    done = run_cli("import", "export.dat", "--review", "Demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert " records imported" in done.stdout


SYNERGY_DONNERS = Path("/work/shared/data/synergy/Donners_2021.csv")


@pytest.mark.skipif(not SYNERGY_DONNERS.exists(), reason="SYNERGY set Donners_2021 not found")
def test_simulate_adds_the_stopping_advice_column(tmp_path):
    done = run_cli("simulate", str(SYNERGY_DONNERS), "--output", "order.csv", "--seed", "3",
                   "--prior-included", "6", "--prior-excluded", "0", "--stop-recall", "0.95",
                   "--stop-rule", "counting", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(SYNERGY_DONNERS, encoding="utf-8") as handle:
        label_of = {row["record_id"]: int(row["label_included"]) for row in csv.DictReader(handle)}
    with open(tmp_path / "order.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["record_id", "safe_to_stop"]
    assert [row["record_id"] for row in rows[:2]] == ["6", "0"]
    advice = [row["safe_to_stop"] for row in rows]
    assert set(advice) == {"0", "1"} and advice[0] == "0" and advice[-1] == "1"
    stop = advice.index("1") + 1
    found = sum(label_of[row["record_id"]] for row in rows[:stop])
    assert found >= 0.95 * sum(label_of.values()) and stop < len(rows)


def test_simulate_refuses_an_unknown_stopping_rule(tmp_path):
    done = run_cli("simulate", "missing.csv", "--output", "order.csv", "--stop-recall", "0.95",
                   "--stop-rule", "knee", cwd=tmp_path)
    assert done.returncode != 0
    assert "unknown stopping rule 'knee'" in done.stderr and "counting" in done.stderr
    assert not (tmp_path / "order.csv").exists()


def test_simulate_runs_the_model_named(tmp_path):
    from tests.test_screening_model import IDS, LABELS, RELEVANT, TEXTS

    with open(tmp_path / "review.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "title", "abstract", "label_included"])
        writer.writerows(zip(IDS, TEXTS, [""] * len(IDS), LABELS, strict=True))
    done = run_cli("simulate", "review.csv", "--output", "order.csv", "--model", "tfidf_nb",
                   "--prior-included", "r00", "--prior-excluded", "r10", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "order.csv", encoding="utf-8") as handle:
        order = [row["record_id"] for row in csv.DictReader(handle)]
    assert sorted(order) == sorted(IDS) and order[:2] == ["r00", "r10"]
    assert len(set(order[2:2 + len(RELEVANT)]) & set(IDS[: len(RELEVANT)])) >= 3
    done = run_cli("simulate", "review.csv", "--output", "again.csv", "--model", "bert",
                   cwd=tmp_path)
    assert done.returncode != 0 and "unknown screening model 'bert'" in done.stderr
    assert "tfidf_svm" in done.stderr and not (tmp_path / "again.csv").exists()
