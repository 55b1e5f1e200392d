"""Deduplicate: merge the same study found in several databases; check the doubtful pairs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.dedup import PairDecision, explain
from reviewkit.review_dedup import deduplicate_review, merge_rules
from reviewkit.ui.common import current_user, get_store, md_escape, require_review

FIELDS = {"title": "Title", "authors": "Authors", "year": "Year", "journal": "Journal",
          "volume": "Volume", "issue": "Issue", "pages": "Pages", "doi": "DOI",
          "pmid": "PubMed ID", "record_type": "Type", "abstract": "Abstract"}


def _value(record, name: str) -> str:
    value = getattr(record, name)
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else str(value)


def _side_by_side(left, right, sources: tuple[str, str]) -> pd.io.formats.style.Styler:
    rows = [("Source", *sources)]
    rows += [(label, _value(left, name), _value(right, name)) for name, label in FIELDS.items()]
    table = pd.DataFrame(rows, columns=["Field", "Record A", "Record B"])

    def highlight(row):
        differs = row["Record A"].strip().lower() != row["Record B"].strip().lower()
        colour = "background-color: #fde7c8" if differs else ""
        return ["", colour, colour]

    return table.style.apply(highlight, axis=1)


def _decide(pair_id: int, status: str) -> None:
    get_store().decide_pair(pair_id, status, actor=current_user())
    st.session_state.setdefault("dedup_undo", []).append(pair_id)


def _undo() -> None:
    stack = st.session_state.get("dedup_undo", [])
    if stack:
        get_store().decide_pair(stack.pop(), "possible", actor=current_user())


def render() -> None:
    review = require_review("dedup")
    store = get_store()
    st.title("Find duplicates")
    st.write("The same study often comes back from several databases, written differently. "
             "reviewkit merges the clear cases and asks you about the doubtful ones. Records are "
             "never deleted: every merge can be undone.")

    state = store.dedup_state(review.id)
    if state in ("stale", "never"):
        st.warning(("Duplicates have not been looked for since the last import"
                    if state == "stale" else "Duplicates have not been looked for yet")
                   + ", so the counts below leave those records out. Press **Find duplicates** "
                   "to compare them.", icon=":material/join:")
    groups = store.duplicate_groups(review.id)
    waiting = store.duplicate_pairs(review.id, status="possible")
    a, b, c, d = st.columns(4)
    a.metric("Records", store.count_records(review.id))
    b.metric("Merged groups", len(groups))
    c.metric("Duplicates removed", sum(len(m) for m in groups.values()))
    d.metric("Possible duplicates to check", len(waiting))

    if st.button("Find duplicates", type="primary", icon=":material/join:"):
        bar = st.progress(0.0, text="Comparing records…")
        summary = deduplicate_review(store, review, actor=current_user(),
                                     progress=lambda share, text: bar.progress(min(share, 1.0), text=text))
        bar.empty()
        st.session_state["dedup_summary"] = summary.plain_words()
        st.rerun()
    if "dedup_summary" in st.session_state:
        st.success(md_escape(st.session_state["dedup_summary"]))

    st.header("Is this the same study?")
    if not waiting:
        st.info("No possible duplicates are waiting for a decision.")
    else:
        pair = waiting[0]
        left, right = store.get_record(pair["left_id"]), store.get_record(pair["right_id"])
        st.caption(f"Pair 1 of {len(waiting)} · similarity {pair['score']:.0%} · "
                   + md_escape(explain(PairDecision(0, 1, "possible", pair["score"], pair["reasons"]))))
        source = {b.id: f"{b.database_name} ({b.filename})" for b in store.list_batches(review.id)}
        sources = (source.get(left.batch_id, ""), source.get(right.batch_id, ""))
        st.table(_side_by_side(left.record, right.record, sources).hide(axis="index"))
        st.caption("Fields that differ are shaded. Keys: S same, D different, K skip, U undo.")
        cols = st.columns(4)
        cols[0].button("Same study", on_click=_decide, args=(pair["id"], "same"), shortcut="s",
                       type="primary", icon=":material/merge:")
        cols[1].button("Different studies", on_click=_decide, args=(pair["id"], "different"),
                       shortcut="d", icon=":material/call_split:")
        cols[2].button("Skip for now", on_click=_decide, args=(pair["id"], "skipped"),
                       shortcut="k", icon=":material/skip_next:")
    st.button("Undo last decision", on_click=_undo, shortcut="u", icon=":material/undo:",
              disabled=not st.session_state.get("dedup_undo"))

    st.header("Merged groups")
    if not groups:
        st.info("Nothing has been merged yet.")
        return
    source = {b.id: b.database_name for b in store.list_batches(review.id)}
    rules = merge_rules(store, review.id)
    chosen = st.multiselect("Show groups merged by", sorted({r for found in rules.values()
                                                             for r in found}),
                            placeholder="Every rule",
                            help="Each merge keeps the rule that made it: pick the kinds you "
                                 "want to audit.")
    rows = []
    for kept_id, members in groups.items():
        why = rules.get(kept_id, [])
        if chosen and not set(chosen) & set(why):
            continue
        kept = store.get_record(kept_id)
        sources = {source[store.get_record(m).batch_id] for m in [kept_id, *members]}
        rows.append({"Kept record": kept_id, "Why merged": "; ".join(why),
                     "Title": kept.record.title, "Year": kept.record.year,
                     "Merged records": len(members), "Sources": ", ".join(sorted(sources))})
    if not rows:
        st.info("No merged group was made by the rules chosen.")
        return
    table = pd.DataFrame(rows)
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="groups_table",
                         column_config={"Why merged": st.column_config.TextColumn(width="medium")})
    if event and event.selection.rows:
        kept_id = int(table.iloc[event.selection.rows[0]]["Kept record"])
        members = groups[kept_id]
        st.dataframe(pd.DataFrame([{"Record": rid, "Title": r.title, "Source": r.database,
                                    "Year": r.year, "DOI": r.doi}
                                   for rid in [kept_id, *members]
                                   for r in [store.get_record(rid).record]]), hide_index=True)
        for pair in store.duplicate_pairs(review.id):
            if pair["status"] == "duplicate" and {pair["left_id"], pair["right_id"]} <= {
                    kept_id, *members}:
                why = explain(PairDecision(0, 1, "duplicate", pair["score"], pair["reasons"]))
                st.caption(md_escape(f"Records {pair['left_id']} and {pair['right_id']}: {why} "
                                     f"Rule: {pair['reasons'].get('rule', '')}."))
        if st.button("Unmerge this group", icon=":material/call_split:"):
            store.unmerge(kept_id, actor=current_user())
            st.rerun()
