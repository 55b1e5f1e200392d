"""A review's settings, declared once: name, kind, default and help in plain words.

The Overview page's settings form and ``python -m reviewkit settings`` are both built from
:data:`SETTINGS`, so a new setting needs one line here and nothing else.  The question and the
criteria live in the review's own columns; everything else in its ``settings`` JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewkit.errors import ReviewkitError

# A starting list a review can edit: the usual PICO-style reasons PRISMA reports by.
DEFAULT_EXCLUSION_REASONS = (
    "Wrong population",
    "Wrong intervention or approach",
    "Wrong comparator",
    "Wrong outcome",
    "Wrong study design",
    "Wrong setting",
    "Wrong publication type",
    "Not in English",
    "Duplicate",
)
KINDS = ("text", "lines", "number", "switch", "choice")
# The review's own columns; every other setting is a key of its settings JSON.
COLUMNS = ("question", "inclusion_criteria", "exclusion_criteria")


@dataclass(frozen=True)
class Setting:
    """One review setting as people see it: a label, a kind of value, a default and help."""

    name: str
    label: str
    kind: str  # one of KINDS
    default: Any
    help: str
    choices: tuple = ()
    # What people read for each of ``choices`` in the app (the names stay the CLI's words).
    choice_labels: tuple = ()

    def choice_label(self, value: Any) -> str:
        """The words the app shows for one of the choices."""
        if value in self.choices and self.choice_labels:
            return self.choice_labels[self.choices.index(value)]
        return str(value)

    @property
    def in_column(self) -> bool:
        return self.name in COLUMNS


SETTINGS: tuple[Setting, ...] = (
    Setting("question", "Review question", "text", "",
            "The question the review answers; shown beside every record while screening."),
    Setting("inclusion_criteria", "Inclusion criteria", "lines", (),
            "What a study must be or report to be included, one criterion per line."),
    Setting("exclusion_criteria", "Exclusion criteria", "lines", (),
            "What rules a study out, one criterion per line."),
    Setting("exclusion_reasons", "Reasons for excluding", "lines", DEFAULT_EXCLUSION_REASONS,
            "The reasons a reviewer picks from when excluding, one per line. Every full-text "
            "exclusion needs one of them: PRISMA reports full-text exclusions by reason."),
    Setting("keywords_include", "Words to highlight as relevant", "lines", (),
            "Words or phrases shown in green in titles and abstracts, one per line."),
    Setting("keywords_exclude", "Words to highlight as irrelevant", "lines", (),
            "Words or phrases shown in red in titles and abstracts, one per line."),
    Setting("reviewers_required", "Reviewers per record", "number", 1,
            "With two, each record needs two independent votes, and disagreements go to the "
            "Conflicts page.", choices=(1, 2)),
    Setting("blind", "Blind reviewers to each other's votes", "switch", None,
            "Reviewers see only their own votes, and conflicts only the lead, until the lead "
            "unblinds the review. Automatic: on when two reviewers see each record, or in "
            "rapid screening mode."),
    Setting("split_screening", "Split the records between reviewers", "switch", False,
            "Each record is handed to one reviewer at a time, so nobody screens a record "
            "someone else is already looking at."),
    # Rapid-review screening (reviewkit.screening.rapid), after Cochrane Rapid Reviews guidance.
    Setting("screening_mode", "Screening mode", "choice", "standard",
            "standard: every record gets the number of votes set in 'Reviewers per record'. "
            "rapid: two reviewers first screen the same random calibration sample (another "
            "sample follows until their agreement passes the thresholds below); then each "
            "record is screened by one reviewer, and a random share of each reviewer's "
            "exclusions goes to another reviewer to check. Disagreements go to Conflicts.",
            choices=("standard", "rapid"),
            choice_labels=("Standard: reviewers per record", "Rapid: calibrate, then one "
                           "reviewer with checks")),
    Setting("calibration_size", "Calibration sample size (rapid mode)", "number", 30,
            "How many randomly drawn records both reviewers screen in each calibration round.",
            choices=(3, 10, 20, 30, 50, 100, 200)),
    Setting("calibration_kappa", "Kappa needed to end calibration (rapid mode)", "choice", 0.6,
            "Cohen's kappa the two reviewers must reach on a calibration sample before single "
            "screening starts (0.6 is 'substantial' agreement).",
            choices=(0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
    Setting("calibration_agreement", "Raw agreement needed to end calibration (rapid mode)",
            "choice", 0.9,
            "The share of calibration records the two reviewers must have decided alike.",
            choices=(0.8, 0.85, 0.9, 0.95, 1.0)),
    Setting("verification_percent", "Share of exclusions checked by a second reviewer (%)",
            "number", 20,
            "In single screening, this percentage of each reviewer's exclusions (drawn at "
            "random) is handed to another reviewer to check.",
            choices=(10, 20, 25, 50, 100)),
    # The names of reviewkit.screening.model.MODELS (a test keeps them in step).
    Setting("screening_model", "Model that ranks the records", "choice", "tfidf_svm",
            "tfidf_svm: word TF-IDF and a linear SVM (ASReview's default kind; on the four "
            "shared test sets the best on three and close on the fourth); tfidf_logistic, "
            "tfidf_nb: the same words with logistic regression or naive Bayes; "
            "minilm_logistic, minilm_svm: the bundled MiniLM sentence embeddings (slower to "
            "start: every abstract is embedded first). The MiniLM models were a little ahead "
            "on the one test set where one record in eight was relevant, and well behind on "
            "the other three.",
            choices=("tfidf_svm", "tfidf_logistic", "tfidf_nb", "minilm_logistic", "minilm_svm"),
            choice_labels=("Words, linear SVM (tfidf_svm)", "Words, logistic regression "
                           "(tfidf_logistic)", "Words, naive Bayes (tfidf_nb)",
                           "Sentence meaning, logistic regression (minilm_logistic)",
                           "Sentence meaning, linear SVM (minilm_svm)")),
    Setting("stop_recall", "Recall target for the stopping advice", "choice", 0.95,
            "The share of relevant records screening must find before the advice says stop; "
            "it goes into the methods text and the PRISMA diagram.",
            choices=(0.8, 0.9, 0.95, 0.99)),
    # The names of reviewkit.screening.stopping.STOPPING_RULES (a test keeps them in step).
    Setting("stop_rule", "Stopping rule", "choice", "hypergeometric",
            "hypergeometric: a statistical guarantee, cautious on ranked screening; counting: a "
            "model of the rate at which relevant records turn up, not a guarantee (on four "
            "benchmark reviews it reached 95% recall in all 66 new runs, screening 1.59 times "
            "the records the ranking needed, against 2.53 times for the exact test; its "
            "settings were tuned on three of those reviews); heuristic: ASReview SAFE-style "
            "rule of thumb, no confidence (it missed the target in 30% of those runs).",
            choices=("hypergeometric", "counting", "heuristic"),
            choice_labels=("Hypergeometric: a statistical guarantee",
                           "Counting: a model of the rate, no guarantee",
                           "Heuristic: a rule of thumb")),
    # Reporting items of the rapid-review reporting guideline (Stevens et al. 2024): they go
    # into the methods text and the search appendix (reviewkit.search_appendix).
    Setting("rapid_streamlined", "What was streamlined, and why (rapid reviews)", "text", "",
            "For a rapid review: which steps were shortened or left out (one database, one "
            "screener with checks, no appraisal...) and the reason for each. Reported in the "
            "methods text and the search appendix."),
    Setting("knowledge_users", "Knowledge users", "text", "",
            "Who will use the review's findings (commissioners, practitioners, residents) and "
            "who among them took part."),
    Setting("knowledge_user_involvement", "How the knowledge users took part", "text", "",
            "At which steps the knowledge users were involved (setting the question, agreeing "
            "the criteria, reading the draft) and how."),
)
BY_NAME = {s.name: s for s in SETTINGS}


def _setting(name: str) -> Setting:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ReviewkitError(f"There is no review setting called '{name}'; the settings are: "
                             f"{', '.join(BY_NAME)}.") from None


def default_settings() -> dict:
    """The settings a new review stores from the start: its starting lists (the reasons).

    Other settings follow their defaults until changed; a starting list is copied in, so that
    a later change to the default list leaves existing reviews as they were.
    """
    return {s.name: list(s.default) for s in SETTINGS
            if s.kind == "lines" and not s.in_column and s.default}


def setting_value(review, name: str) -> Any:
    """The value of one setting for ``review``, its default when never set."""
    setting = _setting(name)
    if setting.in_column:
        raw = getattr(review, name)
        return _lines(raw) if setting.kind == "lines" else raw
    if name == "blind" and review.settings.get("blind") is None:
        return (int(review.settings.get("reviewers_required", 1)) >= 2
                or review.settings.get("screening_mode") == "rapid")
    value = review.settings.get(name, setting.default)
    return list(value) if setting.kind == "lines" else value


def stored_value(review, name: str) -> Any:
    """What the review itself holds for a setting: None where it follows its default."""
    setting = _setting(name)
    return setting_value(review, name) if setting.in_column else review.settings.get(name)


def exclusion_reasons(review) -> list[str]:
    """The reasons a reviewer may give for excluding a record in ``review``."""
    return setting_value(review, "exclusion_reasons")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_setting(name: str, value: Any) -> Any:
    """Turn what a person typed (or a form gave) into the stored value, or say what is wrong."""
    setting = _setting(name)
    if setting.kind == "text":
        return str(value).strip()
    if setting.kind == "lines":
        items = _lines(value) if isinstance(value, str) else [str(v).strip() for v in value]
        kept = list(dict.fromkeys(x for x in items if x))
        if name == "exclusion_reasons" and not kept:
            raise ReviewkitError("Give at least one reason for excluding: without one, no "
                                 "record can be excluded at full text.")
        return kept
    if setting.kind == "number":
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ReviewkitError(f"{setting.label} must be a whole number, not '{value}'.") from None
        if setting.choices and number not in setting.choices:
            raise ReviewkitError(f"{setting.label} must be one of "
                                 f"{', '.join(map(str, setting.choices))}, not {number}.")
        return number
    if setting.kind == "choice":
        for option in setting.choices:
            if str(value).strip().lower() in (str(option).lower(), f"{option:.0%}"
                                              if isinstance(option, float) else ""):
                return option
        raise ReviewkitError(f"{setting.label} must be one of "
                             f"{', '.join(map(str, setting.choices))}, not '{value}'.")
    if isinstance(value, bool) or (value is None and setting.default is None):
        return value
    word = str(value).strip().lower()
    if word == "auto" and setting.default is None:
        return None
    if word in ("on", "yes", "true", "1"):
        return True
    if word in ("off", "no", "false", "0"):
        return False
    raise ReviewkitError(f"{setting.label} is on or off"
                         + (" (or auto)" if setting.default is None else "") + f", not '{value}'.")


def show_value(review, name: str) -> str:
    """One setting's value as plain text (lines joined with ' | ')."""
    value = setting_value(review, name)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return " | ".join(value)
    return str(value)


def change_settings(store, review, changes: dict[str, Any], *, actor: str):
    """Check and store changed settings in one logged update; return the review as it is now.

    Only values that differ from the current ones are written, so saving a form unchanged
    leaves the review (and its audit trail) alone.
    """
    columns, stored = {}, {}
    for name, raw in changes.items():
        value = parse_setting(name, raw)
        if value == (stored_value(review, name) if value is None else setting_value(review, name)):
            continue
        if BY_NAME[name].in_column:
            columns[name] = "\n".join(value) if isinstance(value, list) else value
        else:
            stored[name] = value
    if not columns and not stored:
        return review
    return store.update_review(review.id, actor=actor, settings_update=stored or None,
                               **columns)


def new_review_fields(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split checked values for a new review into its columns and its settings JSON."""
    columns, stored = {}, {}
    for name, raw in values.items():
        value = parse_setting(name, raw)
        if BY_NAME[name].in_column:
            columns[name] = "\n".join(value) if isinstance(value, list) else value
        else:
            stored[name] = value
    return columns, stored
