"""``python -m reviewkit``: each subcommand opens the database, calls the library, and exits.

Exit status: 0 when everything worked, 1 when something failed (the message is on stderr),
3 when a file had been imported into the review before (nothing was imported again).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewkit.errors import DuplicateImportError, ReviewkitError

EXIT_FAILED = 1
EXIT_ALREADY_IMPORTED = 3


def _open_store(args):
    from reviewkit.store import Store

    return Store(args.database)


def _actor(args, store=None) -> str:
    """Who is acting.  With accounts on, the password is checked too.

    The name comes from ``--user`` or ``REVIEWKIT_USER``; the password from
    ``REVIEWKIT_PASSWORD``, else it is asked for when a person is at the terminal.
    """
    name = getattr(args, "user", None) or os.environ.get("REVIEWKIT_USER") or ""
    from reviewkit.accounts import LoginRequired, accounts_enabled, authenticate

    store = store or _open_store(args)
    if not accounts_enabled(store):
        return name or "admin"
    if not name:
        raise LoginRequired("Accounts are on for this database: say who you are with --user NAME "
                            "(or REVIEWKIT_USER) and give the password in REVIEWKIT_PASSWORD.")
    password = os.environ.get("REVIEWKIT_PASSWORD")
    if password is None and sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Password for {name}: ")
    return authenticate(store, name, password or "").username


def _allowed(args, store, action: str, review=None) -> str:
    """Return the acting user's name after checking that they may do ``action`` (in
    ``review``: a Review or a review id)."""
    from reviewkit.accounts import require

    actor = _actor(args, store)
    require(store, actor, action, review_id=getattr(review, "id", review))
    return actor


def cmd_import(args) -> int:
    """Import files into a review, creating the review when it is new."""
    from reviewkit.formats import ReadNotes
    from reviewkit.importing import import_file

    store = _open_store(args)
    review = store.find_review(args.review)
    if review is None:
        actor = _allowed(args, store, "review.create")
        review = store.create_review(args.review, actor=actor)
    actor = _allowed(args, store, "import", review)
    status = 0
    for path in args.files:
        name = Path(path).name
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read the file ({exc.strerror or exc}).", file=sys.stderr)
            status = EXIT_FAILED
            continue
        notes = ReadNotes()
        try:
            batch = import_file(store, review, data, name, actor=actor, format=args.format,
                                database_name=args.database_name or "",
                                search_date=args.search_date or "",
                                search_query=args.query or "", notes=notes,
                                decisions_from=args.decisions_from, search=_search_options(args))
        except DuplicateImportError as exc:
            print(str(exc), file=sys.stderr)
            status = status or EXIT_ALREADY_IMPORTED
            continue
        except ReviewkitError as exc:
            print(f"Import failed, nothing stored from this file. {exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        with_calls = (f", with {batch.decisions_imported} screening decisions from its notes"
                      if batch.decisions_imported else "")
        print(f"{name}: {batch.record_count} records imported as {batch.format.upper()} "
              f"(source: {batch.database_name}) into review '{review.name}'{with_calls}.")
        for line in notes.lines():
            print(f"{name}: note: {line}", file=sys.stderr)
    return status


def cmd_export(args) -> int:
    """Write a review's records to a RIS, BibTeX or CSV file (or Excel, with decisions)."""
    from reviewkit.importing import export_records

    store = _open_store(args)
    review = store.get_review(args.review)
    actor = _allowed(args, store, "review.read", review)
    chosen = {name: getattr(args, name) for name in ("stage", "decision", "reason",
                                                     "reviewer", "label")}
    if args.format in ("asreview", "zotero", "eppi"):
        from reviewkit.decisions import DecisionFilter, review_decisions
        from reviewkit.interchange import export_for_tool

        items = review_decisions(store, review, actor,
                                 DecisionFilter(search=args.search, **chosen))
        Path(args.output).write_bytes(export_for_tool(store, review, items, args.format))
        what = {"asreview": "as ASReview's labelled CSV",
                "zotero": "as RIS with decisions and codes as tags (for Zotero)",
                "eppi": "as EPPI-Reviewer/EPPI-Mapper JSON (coded studies only)"}[args.format]
        print(f"{len(items)} records from '{review.name}' considered, written to {args.output} "
              f"{what}.")
        return 0
    if args.with_decisions or args.format == "xlsx" or any(chosen.values()):
        from reviewkit.decisions import DecisionFilter, export_decisions, review_decisions

        if args.format == "bibtex":
            raise ReviewkitError("Decisions go out as csv, xlsx or ris, not bibtex.")
        items = review_decisions(store, review, actor,
                                 DecisionFilter(search=args.search, **chosen))
        Path(args.output).write_bytes(export_decisions(items, args.format))
        print(f"{len(items)} records from '{review.name}' written to {args.output} as "
              f"{args.format}, with their decisions.")
        return 0
    data = export_records(store, review, args.format, search=args.search)
    Path(args.output).write_bytes(data)
    count = store.count_records(review.id, search=args.search)
    print(f"{count} records from '{review.name}' written to {args.output} as {args.format}.")
    return 0


def cmd_chase_citations(args) -> int:
    """Read the reference lists of a review's full texts; list (or add) the works it lacks."""
    from reviewkit.citations import CANDIDATE_COLUMNS, add_candidates, candidate_rows, chase_review
    from reviewkit.export_cells import csv_bytes

    store = _open_store(args)
    review = store.get_review(args.review)
    actor = _allowed(args, store, "review.read", review)
    result = chase_review(store, review)
    print(result.in_words())
    if args.output:
        Path(args.output).write_bytes(csv_bytes(CANDIDATE_COLUMNS, candidate_rows(result),
                                                bom=True))
        print(f"Candidates written to {args.output}.")
    if args.add:
        actor = _allowed(args, store, "import", review)
        wanted = (range(1, len(result.candidates) + 1) if args.add.strip() == "all"
                  else [int(x) for x in _id_list(args.add) if x.isdigit()])
        bad = [n for n in wanted if not 1 <= n <= len(result.candidates)]
        if bad or not wanted:
            raise ReviewkitError(f"--add takes candidate numbers from 1 to "
                                 f"{len(result.candidates)} (or 'all'); got '{args.add}'.")
        batch = add_candidates(store, review, [result.candidates[n - 1] for n in wanted],
                               actor=actor)
        print(f"{batch.record_count} cited works added to '{review.name}' as import "
              f"{batch.id} (search method: citation searching).")
    return 0


def cmd_settings(args) -> int:
    """Show a review's settings, or change them (--set NAME=VALUE, repeatable)."""
    from reviewkit.review_settings import SETTINGS, change_settings, show_value

    store = _open_store(args)
    review = store.find_review(args.review)
    if review is None and not args.create:
        raise ReviewkitError(f"There is no review called '{args.review}' (add --create to "
                             "start it with these settings).")
    if review is None:
        review = store.create_review(args.review, actor=_allowed(args, store, "review.create"))
        print(f"Review '{review.name}' created.")
    changes = {}
    for item in args.set or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ReviewkitError(f"'--set {item}' needs the form NAME=VALUE, e.g. "
                                 "--set reviewers_required=2.")
        kind = next((s.kind for s in SETTINGS if s.name == name.strip()), "")
        changes[name.strip()] = value.split("|") if kind == "lines" else value
    if changes:
        before = review
        review = change_settings(store, review, changes, actor=_allowed(
            args, store, "review.manage", review))
        changed = [s.name for s in SETTINGS if s.name in changes
                   and show_value(before, s.name) != show_value(review, s.name)]
        print(f"Changed {', '.join(changed)} of '{review.name}'." if changed
              else "Nothing changed: the settings already had these values.")
        return 0
    _allowed(args, store, "review.read", review)
    for setting in SETTINGS:
        print(f"{setting.name}\t{show_value(review, setting.name)}")
    return 0


def _settings_help() -> str:
    from reviewkit.review_settings import SETTINGS

    lines = ["settings (lists take several values separated by '|'):"]
    for setting in SETTINGS:
        choices = f" [{' or '.join(map(str, setting.choices))}]" if setting.choices else ""
        kind = {"lines": "list", "switch": "on/off", "number": "number",
                "text": "text", "choice": "one of"}[setting.kind] + ("/auto" if setting.default is None else "")
        lines.append(f"  {setting.name} ({kind}{choices}): {setting.help}")
    return "\n".join(lines)


def _read_inputs(paths: list[str]) -> tuple[list, list[str]]:
    """Read every input file (format detected from content): records and an id for each.

    A record's id is its own id in its file (a CSV's record_id column, a RIS ID, a BibTeX
    key), else its position among all inputs; ids repeated across files get the file name
    in front so that every id is unique.
    """
    from collections import Counter

    from reviewkit.formats import read_records

    records, names = [], []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ReviewkitError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
        found = read_records(data, filename=Path(path).name)
        records.extend(found)
        names.extend([Path(path).name] * len(found))
    ids = [r.source_id or str(i) for i, r in enumerate(records, start=1)]
    repeated = {k for k, n in Counter(ids).items() if n > 1}
    ids = [f"{name}:{rid}" if rid in repeated else rid for name, rid in zip(names, ids)]
    return records, ids


def cmd_dedup(args) -> int:
    """Find duplicate records across files and write record_id,group_id (automatic decisions)."""
    from reviewkit.dedup import find_duplicates
    from reviewkit.export_cells import cell_writer

    records, ids = _read_inputs(args.files)
    result = find_duplicates(records, progress=None)
    groups = result.group_ids()
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = cell_writer(handle)
        writer.writerow(["record_id", "group_id"])
        writer.writerows(zip(ids, [g + 1 for g in groups]))
    removed = len(records) - len(set(groups))
    print(f"{len(records)} records, {len(set(groups))} unique works, {removed} duplicates "
          f"merged automatically, {len(result.possible())} possible duplicates for a person "
          f"to check. Groups written to {args.output}.")
    return 0


def _id_list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def cmd_simulate(args) -> int:
    """Simulate screening a labelled CSV with the app's model; write the screening order."""
    from reviewkit.files import simulate_csv
    from reviewkit.screening.model import check_model
    from reviewkit.screening.stopping import DEFAULT_RULE, check_stopping_choice

    rule = args.stop_rule or DEFAULT_RULE
    try:
        check_model(args.model)
        if args.stop_recall is not None or args.stop_rule:
            check_stopping_choice(rule, 0.95 if args.stop_recall is None else args.stop_recall)
    except ValueError as exc:
        raise ReviewkitError(f"simulate: {exc}") from exc
    order = simulate_csv(args.data, args.output, prior_included=_id_list(args.prior_included),
                         prior_excluded=_id_list(args.prior_excluded), seed=args.seed,
                         stop_recall=args.stop_recall, stop_rule=rule, model=args.model)
    print(f"{len(order)} records screened in simulation; order written to {args.output}.")
    return 0


def cmd_search(args) -> int:
    """Search the case-study and story library; print one JSON line per hit."""
    import json

    from reviewkit.library.search import search_public

    for hit in search_public(args.query, args.top, store=_open_store(args)):
        print(json.dumps({k: hit[k] for k in ("id", "title", "type", "score")}, ensure_ascii=False))
    return 0


def cmd_cluster(args) -> int:
    """Group studies by topic; write record_id,cluster_id,cluster_label."""
    from reviewkit.files import cluster_csv

    result = cluster_csv(args.data, args.output, k=args.k)
    print(f"{len(result.labels)} studies in {result.k} clusters; written to {args.output}.")
    return 0


def cmd_code(args) -> int:
    """Suggest approach, outcome and design codes; write record_id,scheme,code,confidence."""
    from reviewkit.files import code_csv

    written = code_csv(args.data, args.output)
    print(f"{written} code suggestions written to {args.output}.")
    return 0


def cmd_extraction_export(args) -> int:
    """Write the review's extracted data (the values each study ends with) as CSV or Excel."""
    from reviewkit.extraction import export_csv, export_xlsx, progress, study_extractions

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "review.read", review)
    excel = args.output.lower().endswith(".xlsx")
    Path(args.output).write_bytes((export_xlsx if excel else export_csv)(store, review))
    counts = progress(study_extractions(store, review))
    print(f"{sum(counts.values()) - counts['not started']} studies extracted "
          f"({counts['verified']} verified) from '{review.name}', written to {args.output}.")
    return 0


def cmd_appraisal_export(args) -> int:
    """Write the review's quality appraisals as a table (CSV, Excel) or traffic-light chart."""
    from reviewkit import appraisal

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "review.read", review)
    kind = Path(args.output).suffix.lower().lstrip(".")
    writers = {"csv": appraisal.export_csv, "xlsx": appraisal.export_xlsx,
               "png": lambda s, r, tool: appraisal.traffic_light(s, r, tool=tool, fmt="png"),
               "svg": lambda s, r, tool: appraisal.traffic_light(s, r, tool=tool, fmt="svg")}
    if kind not in writers:
        raise ReviewkitError(f"{args.output}: the file must end in .csv, .xlsx, .png or .svg.")
    data = writers[kind](store, review, tool=args.tool)
    Path(args.output).write_bytes(data)
    rows = appraisal.summary_rows(store, review, tool=args.tool)
    print(f"{len(rows)} studies appraised with {args.tool} "
          f"({sum(r.quality.verified for r in rows)} verified) in '{review.name}', written to "
          f"{args.output}.")
    return 0


def cmd_brief(args) -> int:
    """Write an evidence brief for an approach (or the whole review) as docx, pdf or md."""
    from reviewkit.approach_search import resolve_approach
    from reviewkit.briefs import build_brief, render_brief

    store = _open_store(args)
    _allowed(args, store, "brief")  # who is asking comes first: nothing is made for a stranger
    if args.review:
        review = store.get_review(args.review)
    else:
        from reviewkit.demo import ensure_demo_review, load_demo_definition

        reviews = store.list_reviews()
        review = reviews[0] if len(reviews) == 1 else store.find_review(
            load_demo_definition()["name"])
        if review is None:
            _allowed(args, store, "review.create")
            review = ensure_demo_review(store)
        if review is None:
            raise ReviewkitError("Name the review with --review: the demo review was deleted.")
    _allowed(args, store, "evidence.read", review)
    approach = None
    if args.approach:
        match = resolve_approach(store, review, args.approach)
        if match is None:
            raise ReviewkitError("--approach needs some words, e.g. 'help with money worries'.")
        approach = match.code
        if match.close:
            print(f"'{args.approach}' → {match.label} ({match.why()}).", file=sys.stderr)
        else:
            print(f"Nothing in the codebook is close to '{args.approach}'; the nearest approach "
                  f"is {match.label} ({match.why()}), and the brief is about that.",
                  file=sys.stderr)
    brief = build_brief(store, review, approach=approach)
    Path(args.output).write_bytes(render_brief(brief, args.format))
    print(f"{brief.title} ({len(brief.references)} reference{'' if len(brief.references) == 1 else 's'}) "
          f"written to {args.output}.")
    return 0


def cmd_synthesis(args) -> int:
    """Write each study's direction of effect per approach × outcome as CSV (and the plots);
    print each cell's vote count and certainty in plain words."""
    from reviewkit.certainty import outcome_verdicts
    from reviewkit.codebook import review_codebook
    from reviewkit.synthesis import direction_table_csv, effect_direction_plot, harvest_plot
    from reviewkit.synthesis import synthesis_cells as cells_of

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "evidence.read", review)
    codebook = review_codebook(store, review.id)
    if args.approach:
        codebook.code("approach", args.approach)  # an unknown code is refused by name
    cells = [c for c in cells_of(store, review, approach=args.approach).values() if c.studies]
    label_a = lambda c: codebook.label("approach", c)  # noqa: E731
    label_o = lambda c: codebook.label("outcome", c)  # noqa: E731
    Path(args.output).write_bytes(direction_table_csv(cells, approach_label=label_a,
                                                      outcome_label=label_o))
    for path, draw in ((args.plot, lambda fmt: effect_direction_plot(
            cells, fmt, approach_label=label_a, outcome_label=label_o)),
                       (args.harvest, lambda fmt: harvest_plot(cells, fmt, outcome_label=label_o))):
        if path:
            fmt = Path(path).suffix.lower().lstrip(".")
            Path(path).write_bytes(draw(fmt))
    verdicts = outcome_verdicts(store, review, approach=args.approach)
    for cell in cells:
        print(f"{label_a(cell.approach)} → {label_o(cell.outcome)}: "
              f"{verdicts[(cell.approach, cell.outcome)].statement()}")
    print(f"{sum(len(c.studies) for c in cells)} study directions in {len(cells)} cells "
          f"written to {args.output}.")
    return 0


def cmd_publish(args) -> int:
    """Write the public site: published public stories and the review's evidence, as files."""
    from reviewkit.publish import write_site

    store = _open_store(args)
    _allowed(args, store, "site.publish")
    review = None
    if args.review:
        review = store.get_review(args.review)
    elif len(store.list_reviews()) == 1:
        review = store.list_reviews()[0]
    formats = tuple(args.briefs.split(",")) if args.briefs else ("md", "docx", "pdf")
    site = write_site(store, args.output, review=review, formats=formats)
    about = f"the review '{review.name}'" if review else "no review (stories only)"
    print(f"Public site written to {site.output}: {site.entries} stories and cases, "
          f"{site.approaches} approach pages, from {about}. Open {site.output / 'index.html'}.")
    return 0


def cmd_reviews(args) -> int:
    """List the reviews in the database with their record counts."""
    from reviewkit.accounts import visible_reviews

    store = _open_store(args)
    for review in visible_reviews(store, _actor(args, store)):
        print(f"{review.name}\t{store.count_records(review.id)} records")
    return 0


def cmd_demo(args) -> int:
    """Create the demo review from the corpora/ folder (does nothing if it exists)."""
    from reviewkit.demo import ensure_demo_review

    store = _open_store(args)
    _allowed(args, store, "review.create")
    review = ensure_demo_review(store)
    if review is None:
        raise ReviewkitError("The demo review was deleted; bring it back with 'restore "
                             "--whole-review --review NAME' (or the Audit page).")
    print(f"Demo review ready: '{review.name}'.")
    return 0


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2024-05-01") from None


def cmd_audit(args) -> int:
    """Write a review's audit trail (newest first) to a CSV or JSON-lines file."""
    from reviewkit.audit import AuditQuery, export_audit

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "audit.read", review)
    query = AuditQuery(review_id=review.id, actor=args.actor, action=args.action,
                       since=args.since, until=args.until, text=args.text)
    data, count = export_audit(store, query, format=args.format)
    Path(args.output).write_bytes(data)
    print(f"{count} audit lines from '{review.name}' written to {args.output} as {args.format}.")
    return 0


_TRASH_TARGETS = (("import_id", "import"), ("record_id", "record"), ("story_id", "story"),
                  ("fulltext_id", "fulltext"))


def _trash_target(args) -> tuple[str, int | None]:
    if args.whole_review:
        return "review", None
    for option, kind in _TRASH_TARGETS:
        if getattr(args, option) is not None:
            return kind, getattr(args, option)
    raise ReviewkitError("Say what to act on: --import-id, --record-id, --story-id, "
                         "--fulltext-id or --whole-review (or --list to see deleted items).")


def cmd_trash(args) -> int:
    """Soft-delete an import, a record, a story, a full text or a whole review."""
    from reviewkit import trash

    store = _open_store(args)
    review = store.get_review(args.review)
    actor = _allowed(args, store, "trash.restore", review)
    if args.list:
        for item in trash.deleted_items(store, review.id):
            note = f"\t{item.note}" if item.note else ""
            print(f"{item.kind}\t{item.id}\t{item.deleted_at:%Y-%m-%d %H:%M}\t{item.label}{note}")
        return 0
    kind, item_id = _trash_target(args)
    if kind == "review":
        trash.delete_review(store, review.id, actor=actor, reason=args.reason or "")
        print(f"Review '{review.name}' deleted (id {review.id}); "
              f"'restore --review \"{review.name}\" --whole-review' brings it back.")
        return 0
    trash.check_in_review(store, kind, item_id, review.id)
    trash.delete(store, kind, item_id, actor=actor, reason=args.reason or "")
    print(f"{trash.KIND_NAMES[kind]} {item_id} deleted from '{review.name}'; "
          "'restore' with the same options brings it back.")
    return 0


def cmd_restore(args) -> int:
    """Bring back something deleted with 'trash'."""
    from reviewkit import trash

    store = _open_store(args)
    kind, item_id = _trash_target(args)
    if kind == "review":
        _actor(args, store)  # who is asking first: which reviews were deleted is not public
        name = " ".join(args.review.split())
        found = trash.deleted_review_named(store, name)
        if found is None:
            raise ReviewkitError(f"There is no deleted review called '{name}'.")
        trash.restore_review(store, found,
                             actor=_allowed(args, store, "trash.restore", found))
        print(f"Review '{name}' restored.")
        return 0
    review = store.get_review(args.review)
    actor = _allowed(args, store, "trash.restore", review)
    trash.check_in_review(store, kind, item_id, review.id)
    trash.restore(store, kind, item_id, actor=actor)
    print(f"{trash.KIND_NAMES[kind]} {item_id} restored in '{review.name}'.")
    return 0


def cmd_export_review(args) -> int:
    """Write a whole review (records, decisions, files, codes, audit log) to one zip archive."""
    from reviewkit.archive import archive_counts, export_review, read_manifest

    store = _open_store(args)
    review = store.get_review(args.review)
    data = export_review(store, review.id, actor=_allowed(args, store, "archive.export", review))
    try:
        Path(args.output).write_bytes(data)
    except OSError as exc:
        raise ReviewkitError(f"{args.output}: cannot write the archive "
                             f"({exc.strerror or exc}).") from exc
    counts = archive_counts(read_manifest(data, filename=args.output))
    print(f"Review '{review.name}' ({counts}) written to {args.output} "
          f"({len(data) / 1024:,.0f} KB).")
    return 0


def cmd_import_review(args) -> int:
    """Bring a review archive into this database as a new review (all or nothing)."""
    from reviewkit.archive import archive_counts, import_review, read_manifest

    try:
        data = Path(args.archive).read_bytes()
    except OSError as exc:
        raise ReviewkitError(f"{args.archive}: cannot read the file "
                             f"({exc.strerror or exc}).") from exc
    store = _open_store(args)
    name = Path(args.archive).name
    review = import_review(store, data, actor=_allowed(args, store, "archive.import"),
                           new_name=args.name,
                           filename=name)
    counts = archive_counts(read_manifest(data, filename=name))
    print(f"Review '{review.name}' imported from {name} ({counts}).")
    return 0


def _new_password(args) -> str | None:
    """A new password: from standard input with --password-stdin, else REVIEWKIT_NEW_PASSWORD,
    else asked for twice at the terminal; None when there is no way to get one."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get("REVIEWKIT_NEW_PASSWORD") is not None:
        return os.environ["REVIEWKIT_NEW_PASSWORD"]
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New password: ")
        if getpass.getpass("Same password again: ") != first:
            raise ReviewkitError("The two passwords differ; nothing was changed.")
        return first
    return None


def cmd_user(args) -> int:
    """Manage accounts: add, password, role, disable, enable, list."""
    from reviewkit import accounts

    store = _open_store(args)
    actor = _actor(args, store)
    if args.action == "list":
        accounts.require(store, actor, "users.manage")
        for user, has_password, disabled in accounts.list_users(store):
            state = "switched off" if disabled else ("can log in" if has_password else "no password")
            print(f"{user.username}\t{user.role}\t{state}")
        return 0
    if not args.name:
        raise ReviewkitError(f"'user {args.action}' needs a user name.")
    if args.action == "add":
        if not args.role:
            raise ReviewkitError("'user add' needs --role (" + ", ".join(accounts.ROLES) + ").")
        user = accounts.create_user(store, args.name, role=args.role, password=_new_password(args),
                                    display_name=args.display_name or "", actor=actor)
        print(f"Account '{user.username}' added as {accounts.ROLE_NAMES[user.role]}.")
    elif args.action == "password":
        password = _new_password(args)
        if password is None:
            raise ReviewkitError("Give the new password with --password-stdin or "
                                 "REVIEWKIT_NEW_PASSWORD.")
        accounts.set_password(store, args.name, password, actor=actor)
        print(f"Password of '{args.name}' changed.")
    elif args.action == "role":
        if not args.role:
            raise ReviewkitError("'user role' needs --role.")
        accounts.set_role(store, args.name, args.role, actor=actor)
        print(f"'{args.name}' is now {accounts.ROLE_NAMES[args.role]}.")
    else:
        accounts.set_disabled(store, args.name, args.action == "disable", actor=actor)
        print(f"Account '{args.name}' {'switched off' if args.action == 'disable' else 'switched on'}.")
    return 0


def cmd_member(args) -> int:
    """Manage a review's team: add (or change role), remove, list."""
    from reviewkit import accounts

    store = _open_store(args)
    review = store.get_review(args.review)
    actor = _actor(args, store)
    if args.action == "list":
        accounts.require(store, actor, "review.read", review_id=review.id)
        for member in accounts.members(store, review.id):
            print(f"{member.username}\t{member.member_role}\t{member.user_role}")
        return 0
    if not args.name:
        raise ReviewkitError(f"'member {args.action}' needs a user name.")
    if args.action == "add":
        accounts.add_member(store, review.id, args.name, role=args.role or "researcher",
                            actor=actor)
        print(f"'{args.name}' is on the team of '{review.name}' as {args.role or 'researcher'}.")
    else:
        accounts.remove_member(store, review.id, args.name, actor=actor)
        print(f"'{args.name}' is no longer on the team of '{review.name}'.")
    return 0


def cmd_accounts(args) -> int:
    """Turn accounts on (everyone logs in) or off (single-user), or show which."""
    from reviewkit import accounts

    store = _open_store(args)
    if args.state == "status":
        print("on" if accounts.accounts_enabled(store) else "off")
        return 0
    accounts.set_accounts(store, args.state == "on", actor=_actor(args, store))
    print(f"Accounts are {args.state}.")
    return 0


# import's optional search record options -> search record fields
_SEARCH_OPTIONS = {"method": "method", "platform": "platform", "limits": "limits",
                   "run_by": "run_by", "search_notes": "notes"}


def _search_options(args) -> dict[str, str] | None:
    given = {field: getattr(args, option) for option, field in _SEARCH_OPTIONS.items()
             if getattr(args, option, None) is not None}
    return given or None


def cmd_search_record(args) -> int:
    """Show a review's search records (PRISMA-S), or edit one import's (--import-id, --set)."""
    from reviewkit.search_record import FIELD_LABELS, record_search, search_records

    store = _open_store(args)
    review = store.get_review(args.review)
    if args.set:
        if args.import_id is None:
            raise ReviewkitError("Say which import to describe with --import-id N (the ids "
                                 "are listed by 'search-record --review NAME').")
        fields = {}
        for item in args.set:
            name, sep, value = item.partition("=")
            if not sep:
                raise ReviewkitError(f"'--set {item}' needs the form FIELD=VALUE, e.g. "
                                     "--set platform=Ovid.")
            fields[name.strip().replace("-", "_")] = value
        found = record_search(store, args.import_id,
                              actor=_allowed(args, store, "import", review), **fields)
        print(f"Search record of import {found.import_id} ({found.filename}) saved.")
        return 0
    _allowed(args, store, "review.read", review)
    for found in search_records(store, review.id):
        if args.import_id is not None and found.import_id != args.import_id:
            continue
        state = "" if found.recorded else " (from the import; not yet described)"
        print(f"import {found.import_id}: {found.filename}, {found.record_count} records, "
              f"round {found.round_number}{state}")
        for name, value in found.fields().items():
            if value:
                print(f"  {FIELD_LABELS[name]}: {value}")
    return 0


def cmd_search_appendix(args) -> int:
    """Write a review's search appendix (Markdown or Word) with its methods text."""
    from reviewkit.search_appendix import (
        build_search_appendix,
        write_appendix_docx,
        write_appendix_markdown,
    )

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "review.read", review)
    appendix = build_search_appendix(store, review)
    fmt = args.format or ("docx" if args.output.lower().endswith(".docx") else "md")
    data = (write_appendix_docx(appendix) if fmt == "docx"
            else write_appendix_markdown(appendix).encode("utf-8"))
    Path(args.output).write_bytes(data)
    print(f"Search appendix of '{review.name}' ({len(appendix.searches)} searches) written to "
          f"{args.output}.")
    return 0


def cmd_round(args) -> int:
    """Start an update round of a review, or list its rounds."""
    from reviewkit.rounds import list_rounds, new_record_ids, start_update_round

    store = _open_store(args)
    review = store.get_review(args.review)
    if args.action == "start":
        started = start_update_round(store, review, label=args.label or "", note=args.note or "",
                                     actor=_allowed(args, store, "review.manage", review))
        print(f"{started.name} started: imports into '{review.name}' now belong to it.")
        return 0
    _allowed(args, store, "review.read", review)
    for r in list_rounds(store, review):
        new = len(new_record_ids(store, review, r.number))
        print(f"{r.number}\t{r.name}\t{r.started_at:%Y-%m-%d}\t{new} records after "
              "deduplication")
    return 0


def cmd_prisma(args) -> int:
    """Draw a review's PRISMA 2020 flow diagram as SVG or PNG (for an update round: --round)."""
    from reviewkit.prisma import prisma_counts, prisma_png, prisma_svg

    store = _open_store(args)
    review = store.get_review(args.review)
    _allowed(args, store, "review.read", review)
    counts = prisma_counts(store, review, round_number=args.round)
    png = args.output.lower().endswith(".png")
    Path(args.output).write_bytes(prisma_png(counts) if png else prisma_svg(counts).encode())
    what = f"update {args.round}" if args.round else "the whole review"
    print(f"PRISMA 2020 flow diagram of '{review.name}' ({what}: {counts.identified} records "
          f"identified, {counts.total_included} studies included) written to {args.output}.")
    return 0


def _add_common(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Accepted before or after the subcommand; after it, it only counts when given.
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--database", metavar="URL", default=default,
                        help="database URL (default: $REVIEWKIT_DATABASE_URL, else a SQLite "
                             "file in ./data or $REVIEWKIT_DATA_DIR)")
    parser.add_argument("--user", metavar="NAME", default=default,
                        help="who is acting (default: $REVIEWKIT_USER, else 'admin'); with "
                             "accounts on, the password comes from $REVIEWKIT_PASSWORD")


def build_parser() -> argparse.ArgumentParser:
    from reviewkit.accounts import MEMBER_ROLES, ROLES
    from reviewkit.audit import EXPORT_FORMATS as AUDIT_FORMATS
    from reviewkit.decisions import EXPORT_FORMATS as DECISION_FORMATS
    from reviewkit.decisions import OUTCOMES
    from reviewkit.document_formats import APPENDIX_FORMATS, BRIEF_FORMATS
    from reviewkit.formats import EXPORT_FORMATS, FORMATS
    from reviewkit.interchange import DECISION_SOURCES, EXPORTS
    from reviewkit.screening.status import STAGES

    parser = argparse.ArgumentParser(
        prog="python -m reviewkit",
        description="reviewkit: import, deduplicate, screen and map research evidence.")
    _add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p, top_level=False)
        p.set_defaults(func=func)
        return p

    p = command("import", cmd_import,
                "Import RIS, BibTeX, MEDLINE/.nbib, EndNote XML or tagged (.enw), Web of Science "
                "or ProQuest plain text, CSV/TSV, Excel (.xlsx/.xls) or PDF files into a review.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--review", required=True, metavar="NAME",
                   help="the review to import into (created when new)")
    p.add_argument("--format", choices=FORMATS,
                   help="file format (default: detected from the content)")
    p.add_argument("--database-name", metavar="NAME",
                   help="the bibliographic database searched, e.g. Scopus (default: from the file)")
    p.add_argument("--search-date", metavar="DATE", help="when the search was run")
    p.add_argument("--query", metavar="TEXT", help="the search string used")
    p.add_argument("--decisions-from", default="auto",
                   choices=DECISION_SOURCES,
                   help="whose screening decisions to read from the file: auto (default: "
                        "reviewkit's, Rayyan's and ASReview's notes and reviewkit's Zotero "
                        "tags), one tool's only ('asreview' also reads the label column of "
                        "ASReview's CSV), or none")
    p.add_argument("--method", metavar="METHOD",
                   help="search record (PRISMA-S): how the records were found: database "
                        "(default), register, website, citation searching or other")
    p.add_argument("--platform", metavar="NAME", help="search record: the platform or "
                                                      "interface, e.g. Ovid, EBSCOhost")
    p.add_argument("--limits", metavar="TEXT", help="search record: limits and filters applied")
    p.add_argument("--run-by", metavar="NAME", help="search record: who ran the search")
    p.add_argument("--search-notes", metavar="TEXT",
                   help="search record: notes, e.g. what was done for citation searching")

    p = command("export", cmd_export, "Export a review's records as RIS, BibTeX or CSV "
                                      "(or Excel), optionally with their screening decisions.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--format", required=True,
                   choices=tuple(dict.fromkeys(EXPORT_FORMATS + DECISION_FORMATS + tuple(EXPORTS))),
                   help="asreview: ASReview's labelled CSV; zotero: RIS with decisions and "
                        "codes as tags; eppi: EPPI-Reviewer/EPPI-Mapper JSON of the coded "
                        "studies and the codebook")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--search", metavar="WORDS", help="only records matching these words")
    p.add_argument("--with-decisions", action="store_true",
                   help="add each record's decisions, reasons, votes and notes (RIS: in N1 "
                        "notes as Rayyan and ASReview write them); kept records only")
    p.add_argument("--stage", choices=STAGES,
                   help="only records that reached this stage (implies --with-decisions)")
    p.add_argument("--decision", choices=tuple(OUTCOMES),
                   help="only records standing so (at --stage, else at their furthest stage)")
    p.add_argument("--reason", metavar="TEXT", help="only records excluded for this reason")
    p.add_argument("--reviewer", metavar="NAME", help="only records this reviewer decided")
    p.add_argument("--label", metavar="CODE", help="only records coded with this code")

    p = command("chase-citations", cmd_chase_citations,
                "Backward citation chasing offline: read the reference lists of the full texts "
                "attached to a review, match them to its records by DOI and title, and list the "
                "cited works it lacks (--output) or add the chosen ones (--add).")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", metavar="FILE.csv",
                   help="write the candidates: candidate,title,authors,year,doi,journal,"
                        "cited_by,reference")
    p.add_argument("--add", metavar="N,...|all",
                   help="add these candidates (numbers from the list) as one import whose "
                        "search record's method is 'citation searching'")

    p = command("settings", cmd_settings,
                "Show or change a review's question, criteria, exclusion reasons, highlight "
                "words, reviewers per record, blinding and split screening.")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = _settings_help()
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="change a setting; lists as 'first|second|third' (repeatable)")
    p.add_argument("--create", action="store_true",
                   help="start the review when there is none by that name")

    p = command("dedup", cmd_dedup,
                "Find duplicates across exported files; write one row per record: record_id,group_id.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--output", required=True, metavar="FILE", help="CSV file to write")

    p = command("simulate", cmd_simulate,
                "Simulate screening a labelled CSV (record_id,title,abstract,label_included).")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--prior-included", metavar="ID,...", help="record ids known to be relevant")
    p.add_argument("--prior-excluded", metavar="ID,...", help="record ids known to be irrelevant")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="tfidf_svm", metavar="NAME",
                   help="ranking model: tfidf_svm (default), tfidf_logistic, tfidf_nb, "
                        "minilm_logistic or minilm_svm")
    p.add_argument("--stop-recall", type=float, metavar="TARGET",
                   help="add a safe_to_stop column (1 where the stopping advice after that record "
                        "says this recall, e.g. 0.95, is reached)")
    p.add_argument("--stop-rule", metavar="NAME",
                   help="stopping rule for --stop-recall: counting, hypergeometric or heuristic "
                        "(default: the review default, see README)")

    p = command("search", cmd_search, "Search the case-study and story library (JSON lines).")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top", type=int, default=10)

    p = command("cluster", cmd_cluster, "Cluster studies by topic: record_id,cluster_id,cluster_label.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--k", type=int, default=None, help="number of clusters (default: chosen automatically)")

    p = command("code", cmd_code, "Suggest codes for studies: record_id,scheme,code,confidence.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")

    p = command("extraction-export", cmd_extraction_export,
                "Write the data extracted from a review's included studies (one row per study "
                "and per study outcome, a column per form field) as CSV or Excel (.xlsx).")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE.csv|FILE.xlsx")

    p = command("appraisal-export", cmd_appraisal_export,
                "Write a review's quality appraisals: the summary table (.csv, .xlsx) or the "
                "traffic-light chart (.png, .svg), chosen by the file's ending.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--tool", default="mmat", metavar="KEY",
                   help="mmat (default), sr_checklist, or a tool the review's lead wrote")

    p = command("brief", cmd_brief, "Write an evidence brief for an approach or a whole review.")
    p.add_argument("--approach", metavar="NAME", help="in everyday words, e.g. 'social prescribing'")
    p.add_argument("--format", required=True, choices=tuple(BRIEF_FORMATS))
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--review", metavar="NAME", help="default: the only review, else the demo review")

    p = command("synthesis", cmd_synthesis,
                "Directions of effect per approach x outcome as CSV, with each cell's vote "
                "count and certainty; effect-direction and harvest plots (PNG or SVG).")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE.csv")
    p.add_argument("--approach", metavar="CODE", help="one approach's cells only")
    p.add_argument("--plot", metavar="FILE.png|svg", help="effect-direction plot")
    p.add_argument("--harvest", metavar="FILE.png|svg", help="harvest plot")

    p = command("publish", cmd_publish,
                "Write the public website (static files): published public stories and cases, "
                "approaches with their verdicts, and briefs to download.")
    p.add_argument("--output", required=True, metavar="FOLDER")
    p.add_argument("--review", metavar="NAME", help="default: the only review, else stories only")
    p.add_argument("--briefs", metavar="FORMATS",
                   help="brief formats to offer, comma-separated (default: md,docx,pdf)")

    p = command("user", cmd_user, "Manage accounts (admins): add, password, role, disable, "
                                  "enable, list.")
    p.add_argument("action", choices=("add", "password", "role", "disable", "enable", "list"))
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--display-name", metavar="TEXT")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the new password from the first line of standard input "
                        "(default: $REVIEWKIT_NEW_PASSWORD, else asked for)")

    p = command("member", cmd_member, "Manage a review's team: add, remove, list.")
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--role", choices=MEMBER_ROLES,
                   help="role in this review; 'admin' makes them its lead (default researcher)")

    p = command("accounts", cmd_accounts,
                "Turn accounts on (everyone logs in, roles apply) or off (single user).")
    p.add_argument("state", choices=("on", "off", "status"))

    command("reviews", cmd_reviews, "List reviews.")
    command("demo", cmd_demo, "Create the demo review from corpora/.")

    p = command("audit", cmd_audit,
                "Export a review's audit trail (who did what, when), newest first.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--format", choices=AUDIT_FORMATS, default="csv",
                   help="csv (UTF-8 with BOM, opens in Excel; details as JSON) or jsonl "
                        "(default csv)")
    p.add_argument("--actor", metavar="NAME", help="only lines by this user")
    p.add_argument("--action", metavar="PREFIX",
                   help="only actions starting with this, e.g. 'decision' or 'import.delete'")
    p.add_argument("--since", type=_iso_date, metavar="YYYY-MM-DD", help="from this day (UTC)")
    p.add_argument("--until", type=_iso_date, metavar="YYYY-MM-DD",
                   help="up to and including this day (UTC)")
    p.add_argument("--text", metavar="WORDS", help="only lines whose details hold these words")

    for name, func, what in (
            ("trash", cmd_trash, "Delete (softly: restorable, never erased) an import with all "
                                 "its records, one record, a contributed story, an attached "
                                 "full text or the whole review; --list shows what is deleted."),
            ("restore", cmd_restore, "Bring back an item deleted with 'trash', exactly as it "
                                     "was (decisions and codes included).")):
        p = command(name, func, what)
        p.add_argument("--review", required=True, metavar="NAME")
        target = p.add_mutually_exclusive_group(required=name == "restore")
        target.add_argument("--import-id", type=int, metavar="N",
                            help="an imported file (its batch) and the records it brought")
        target.add_argument("--record-id", type=int, metavar="N", help="a single record")
        target.add_argument("--story-id", type=int, metavar="N",
                            help="a contributed story (library entry id)")
        target.add_argument("--fulltext-id", type=int, metavar="N",
                            help="an attached full text (ids from 'trash --list')")
        target.add_argument("--whole-review", action="store_true", help="the review itself")
        if name == "trash":
            target.add_argument("--list", action="store_true",
                                help="list the review's deleted items: kind, id, when, what")
            p.add_argument("--reason", metavar="TEXT", help="why (kept in the audit trail)")

    p = command("export-review", cmd_export_review,
                "Back up a whole review (records, decisions, files, codes, audit log) as a zip.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE.zip")

    p = command("import-review", cmd_import_review,
                "Import a review archive made by export-review (from SQLite or PostgreSQL).")
    p.add_argument("archive", metavar="FILE.zip")
    p.add_argument("--name", metavar="NEW_NAME",
                   help="import under this name (needed when the archive's name is taken)")

    p = command("search-record", cmd_search_record,
                "Show a review's search records (PRISMA-S: method, database, platform, date, "
                "search string, limits, who ran it, notes), or edit one import's with --set.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--import-id", type=int, metavar="N", help="one import (batch) only")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="change a field of --import-id's record: method, database, platform, "
                        "date_searched, search_string, limits, run_by, notes (repeatable)")

    p = command("search-appendix", cmd_search_appendix,
                "Write a review's search appendix (every search in full, update rounds, "
                "rapid-review reporting items and the methods text) as Markdown or Word.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--format", choices=tuple(APPENDIX_FORMATS),
                   help="default: docx for a .docx file, else md")

    p = command("round", cmd_round,
                "Start an update round (re-run searches imported afterwards belong to it) or "
                "list a review's rounds.")
    p.add_argument("action", choices=("start", "list"))
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--label", metavar="TEXT", help="a name for the round, e.g. 'March 2025'")
    p.add_argument("--note", metavar="TEXT", help="why or how the update was run")

    p = command("prisma", cmd_prisma,
                "Draw a review's PRISMA 2020 flow diagram (SVG, or PNG for a .png file); "
                "--round N draws the diagram for updated reviews.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--round", type=int, metavar="N",
                   help="an update round: its new records, and the previous version's studies")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReviewkitError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
