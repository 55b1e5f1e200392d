"""Write an evidence brief as Markdown, Word (DOCX) and PDF from one Brief object."""

from __future__ import annotations

import io
from pathlib import Path

from reviewkit.briefs.content import Brief
from reviewkit.markup import escape_markdown

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DIRECTION_WORDS = {"positive": "improved", "mixed": "mixed results", "none": "no clear change",
                   "negative": "worsened", "": "direction not coded"}
ACCENT = (0, 94, 120)  # a dark teal, readable in print and on screen
INTERIM = (160, 70, 0)  # a dark amber: a warning that still prints legibly in grey
LANGUAGE = "en-GB"


def more_line(block) -> str:
    """The studies of an outcome left out of the brief, counted."""
    if not block.studies:
        return (f"{block.more} stud{'y' if block.more == 1 else 'ies'} of this outcome: see the "
                "Evidence by approach page.")
    return f"…and {block.more} more stud{'y' if block.more == 1 else 'ies'} of this outcome in the review."


def study_note(finding) -> str:
    """Design and direction of one study, saying plainly when it is a review."""
    if finding.review:
        return f"{finding.design}: summarises other studies"
    return f"{finding.design}; {DIRECTION_WORDS.get(finding.direction, finding.direction)}"


def outcome_counts(brief: Brief) -> list[tuple[str, int]]:
    """The chart's numbers (and its table): each outcome with the studies found for it."""
    return [(block.outcome, len(block.studies) + block.more) for block in brief.findings]


def chart_alt_text(brief: Brief) -> str:
    """Alt text for the chart: what it shows and every number in it."""
    return ("Bar chart of how many studies looked at each outcome: "
            + "; ".join(f"{outcome}, {n}" for outcome, n in outcome_counts(brief))
            + ". The table below the chart gives the same numbers.")


def outcome_chart_png(brief: Brief) -> bytes:
    """A horizontal bar chart of studies per outcome, as a PNG for the Word and PDF briefs."""
    import textwrap

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = outcome_counts(brief)[::-1]  # matplotlib draws from the bottom up
    figure = Figure(figsize=(6.3, 0.8 + 0.32 * len(rows)), dpi=150)
    axes = figure.subplots()
    axes.barh([textwrap.shorten(o, 48, placeholder="…") for o, _ in rows], [n for _, n in rows],
              color=[c / 255 for c in ACCENT])
    axes.set_xlabel("Studies")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def to_markdown(brief: Brief) -> str:
    """Return the brief as Markdown; every piece of text in it is escaped, so a title or
    finding carrying Markdown, HTML or a script stays the characters it was."""
    e = escape_markdown
    out = [f"# {e(brief.title)}", "", f"*{e(brief.subtitle)}*", ""]
    if brief.status:
        out += [f"> **{e(brief.status)}**", ""]
    out += ["## Key messages", ""] + [f"- {e(point)}" for point in brief.key_messages] + [""]
    out += ["## The question", "", e(brief.question), ""]
    out += ["## How the evidence was found", "", e(brief.methods), ""]
    out += ["## What the studies found", ""]
    if not brief.findings:
        out += ["No included study has been coded for this yet.", ""]
    for block in brief.findings:
        out += [f"### {e(block.outcome)}", ""]
        if block.verdict:
            out += [f"*{e(block.verdict)}*", ""]
        if block.certainty:
            out += [f"**How sure we are:** {e(block.certainty)}", ""]
        for f in block.studies:
            out.append(f"- **{e(f.citation)}** ({e(study_note(f))}): "
                       f"{e(f.finding) or 'key finding not yet written'}")
        if block.more:
            out.append(f"- {more_line(block)}")
        out.append("")
    out += ["## Gaps in the evidence", ""]
    out += [f"- {e(gap)}" for gap in brief.gaps] or ["- None found among the outcomes in the codebook."]
    out.append("")
    out += ["## Local examples and residents' stories", ""]
    if not brief.local_examples:
        out += ["No matching local entry in the library yet.", ""]
    for ex in brief.local_examples:
        out += [f"**{e(ex.title)}** — {e(ex.kind)}, {e(ex.place)}", "", e(ex.summary),
                f"*Source: {e(ex.source)}*", ""]
    out += ["## References", ""] + [f"{i}. {e(ref)}" for i, ref in enumerate(brief.references, 1)]
    return "\n".join(out) + "\n"


def to_docx(brief: Brief) -> bytes:
    """Return the brief as a Word document."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    doc.core_properties.title = brief.title
    doc.core_properties.subject = brief.subtitle
    doc.core_properties.language = LANGUAGE
    _set_language(style, LANGUAGE)
    heading = doc.add_heading(brief.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.LEFT
    sub = doc.add_paragraph(brief.subtitle)
    sub.runs[0].italic = True
    sub.runs[0].font.color.rgb = RGBColor(*ACCENT)
    if brief.status:
        for holder in (doc.sections[0].header.paragraphs[0], doc.add_paragraph()):
            run = holder.add_run(brief.status)  # in the page header too: on every page
            run.bold = True
            run.font.color.rgb = RGBColor(*INTERIM)

    doc.add_heading("Key messages", level=1)
    for point in brief.key_messages:
        doc.add_paragraph(point, style="List Bullet")
    doc.add_heading("The question", level=1)
    doc.add_paragraph(brief.question)
    doc.add_heading("How the evidence was found", level=1)
    doc.add_paragraph(brief.methods)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Light List Accent 1"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "PRISMA 2020 stage", "Number"
    for label, value in brief.prisma_rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, str(value)

    doc.add_heading("What the studies found", level=1)
    if not brief.findings:
        doc.add_paragraph("No included study has been coded for this yet.")
    else:
        _docx_chart(doc, brief)
    for block in brief.findings:
        doc.add_heading(block.outcome, level=2)
        if block.verdict:
            doc.add_paragraph().add_run(block.verdict).italic = True
        if block.certainty:
            sure = doc.add_paragraph()
            sure.add_run("How sure we are: ").bold = True
            sure.add_run(block.certainty)
        for f in block.studies:
            para = doc.add_paragraph(style="List Bullet")
            para.add_run(f.citation).bold = True
            para.add_run(f" ({study_note(f)}): ")
            para.add_run(f.finding or "key finding not yet written")
        if block.more:
            doc.add_paragraph(more_line(block),
                              style="List Bullet")
    doc.add_heading("Gaps in the evidence", level=1)
    for gap in brief.gaps or ["None found among the outcomes in the codebook."]:
        doc.add_paragraph(gap, style="List Bullet")
    doc.add_heading("Local examples and residents' stories", level=1)
    if not brief.local_examples:
        doc.add_paragraph("No matching local entry in the library yet.")
    for ex in brief.local_examples:
        para = doc.add_paragraph()
        para.add_run(ex.title).bold = True
        para.add_run(f" — {ex.kind}, {ex.place}")
        doc.add_paragraph(ex.summary)
        src = doc.add_paragraph(f"Source: {ex.source}")
        src.runs[0].italic = True
        src.runs[0].font.size = Pt(9)
    doc.add_heading("References", level=1)
    for i, ref in enumerate(brief.references, 1):
        para = doc.add_paragraph(f"{i}. {ref}")
        para.runs[0].font.size = Pt(9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _set_language(style, language: str) -> None:
    """Mark a Word style's text as ``language`` (screen readers pick their voice by it)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run_properties = style.element.get_or_add_rPr()
    lang = run_properties.find(qn("w:lang")) or OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    run_properties.append(lang)


def _docx_chart(doc, brief: Brief) -> None:
    """The chart with its alt text (the picture's description), then the same as a table."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    doc.add_picture(io.BytesIO(outcome_chart_png(brief)), width=Cm(15))
    properties = doc.inline_shapes[-1]._inline.docPr
    properties.set("descr", chart_alt_text(brief))
    properties.set("title", "Studies per outcome")
    doc.add_paragraph("The chart's numbers:")
    table = doc.add_table(rows=1, cols=2)
    table.style = "Light List Accent 1"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Outcome", "Studies"
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # a header row, read as such and repeated on each page
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for outcome, n in outcome_counts(brief):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = outcome, str(n)


def to_pdf(brief: Brief) -> bytes:
    """Return the brief as a PDF laid out for printing (A4, numbered pages)."""
    from fpdf import FPDF, FontFace, ViewerPreferences
    from fpdf.enums import XPos, YPos

    class _PDF(FPDF):
        def footer(self):
            self.set_y(-16)
            if brief.status:
                self.set_font("DejaVu", "B", 8)
                self.set_text_color(*INTERIM)
                self.cell(0, 5, "INTERIM: screening is not finished, and what this brief says "
                          "may change.", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            else:
                self.set_y(-14)
            self.set_font("DejaVu", size=8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 6, f"{brief.title} · page {self.page_no()} of {{nb}}", align="C")

    pdf = _PDF(format="A4")
    pdf.set_title(brief.title)
    pdf.set_subject(brief.subtitle)
    pdf.set_creator("reviewkit")
    pdf.set_lang(LANGUAGE)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("DejaVu", fname=str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", style="B", fname=str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", style="I", fname=str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    newline = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    # title band
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, pdf.w, 34, style="F")
    pdf.set_xy(18, 9)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("DejaVu", "B", 17)
    pdf.start_section(brief.title, level=0)  # bookmarks: the title, its parts, each outcome
    pdf.multi_cell(width, 8, brief.title, **newline)
    pdf.set_font("DejaVu", size=9)
    pdf.set_x(18)
    pdf.multi_cell(width, 5, brief.subtitle, **newline)
    pdf.set_text_color(20, 20, 20)
    pdf.set_y(42)

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(2)
        pdf.start_section(text, level=1 if size >= 13 else 2)
        pdf.set_font("DejaVu", "B", size)
        pdf.set_text_color(*ACCENT)
        pdf.multi_cell(width, 7, text, **newline)
        pdf.set_text_color(20, 20, 20)
        pdf.set_font("DejaVu", size=10)

    def para(text: str, size: int = 10, style: str = "") -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, 5.2, text, **newline)
        pdf.ln(1)

    def bullet(text: str) -> None:
        pdf.set_font("DejaVu", size=10)
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(5, 5.2, "•")
        pdf.multi_cell(width - 7, 5.2, text, **newline)

    if brief.status:
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_text_color(*INTERIM)
        pdf.multi_cell(width, 5.2, brief.status, **newline)
        pdf.set_text_color(20, 20, 20)
        pdf.ln(1)

    # key messages in a shaded box
    pdf.set_fill_color(232, 243, 246)
    top = pdf.get_y()
    heading("Key messages")
    for point in brief.key_messages:
        bullet(point)
    pdf.ln(2)
    pdf.set_draw_color(*ACCENT)
    pdf.line(pdf.l_margin - 3, top, pdf.l_margin - 3, pdf.get_y())

    heading("The question")
    para(brief.question)
    heading("How the evidence was found")
    para(brief.methods)
    pdf.set_font("DejaVu", size=9)
    with pdf.table(col_widths=(3, 1), text_align=("LEFT", "RIGHT"), line_height=5.5,
                   headings_style=FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=ACCENT),
                   first_row_as_headings=True) as table:
        row = table.row()
        row.cell("PRISMA 2020 stage")
        row.cell("Number")
        for label, value in brief.prisma_rows:
            row = table.row()
            row.cell(label)
            row.cell(str(value))
    pdf.ln(2)

    heading("What the studies found")
    if not brief.findings:
        para("No included study has been coded for this yet.")
    else:
        chart = outcome_chart_png(brief)
        pdf.image(io.BytesIO(chart), w=width * 0.8, alt_text=chart_alt_text(brief))
        pdf.set_font("DejaVu", size=9)
        with pdf.table(col_widths=(3, 1), text_align=("LEFT", "RIGHT"), line_height=5,
                       headings_style=FontFace(emphasis="BOLD"), first_row_as_headings=True) as table:
            table.row(["Outcome", "Studies"])
            for outcome, n in outcome_counts(brief):
                table.row([outcome, str(n)])
        pdf.ln(2)
    for block in brief.findings:
        heading(block.outcome, size=11)
        if block.verdict:
            para(block.verdict, size=9.5, style="I")
        if block.certainty:
            para(f"How sure we are: {block.certainty}", size=9.5)
        for f in block.studies:
            bullet(f"{f.citation} ({study_note(f)}): "
                   f"{f.finding or 'key finding not yet written'}")
        if block.more:
            bullet(more_line(block))
    heading("Gaps in the evidence")
    for gap in brief.gaps or ["None found among the outcomes in the codebook."]:
        bullet(gap)
    heading("Local examples and residents' stories")
    if not brief.local_examples:
        para("No matching local entry in the library yet.")
    for ex in brief.local_examples:
        para(f"{ex.title} — {ex.kind}, {ex.place}", style="B")
        para(ex.summary)
        para(f"Source: {ex.source}", size=8, style="I")
    heading("References")
    for i, ref in enumerate(brief.references, 1):
        para(f"{i}. {ref}", size=8)
    return bytes(pdf.output())
