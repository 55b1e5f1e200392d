"""Where Streamlit falls short of WCAG 2.2 AA, patched on every page (README, accessibility
statement): caption contrast, a visible focus ring, 24 px targets, the page's language, the
menu's list markup, the names of a few unnamed controls, a file picker the keyboard can
open, and the focus taken into a popover when it opens."""

from __future__ import annotations

import streamlit as st

# Streamlit fades captions (opacity 0.6) to 3.9:1 on white; 4.5:1 is the AA minimum for small text.
_STYLE = """
<style>
[data-testid="stCaptionContainer"] { opacity: 1 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: #575553 !important; }
:focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important; }
/* a radio button or checkbox hides its own input: ring the whole option instead */
label:has(> input:focus-visible), label:has(input[type="radio"]:focus-visible),
label:has(input[type="checkbox"]:focus-visible) { outline: 3px solid #1d4ed8; outline-offset: 2px; }
label:has(input[type="radio"]), label:has(input[type="checkbox"]) { min-height: 24px; align-items: center; }
[data-testid="stSidebarNavLink"]:focus-visible { outline-offset: -3px !important; }
button[kind], [data-testid="stSidebarNavLink"], [data-baseweb="tab"] { min-height: 24px; min-width: 24px; }
[data-testid="stHeaderActionElements"] a, [data-testid="stTooltipIcon"] button {
  min-width: 24px; min-height: 24px; display: inline-flex; align-items: center; justify-content: center; }
.stElementContainer:has(#rk-a11y) { display: none; }
/* the chart toolbar's buttons (22 px high) and a password box's "Show password" (16 px) */
[data-testid="stPlotlyChart"] .modebar-btn { min-height: 24px; display: inline-flex;
  align-items: center; }
[data-testid="stTextInputRootElement"] button { min-height: 24px; }
/* a dialogue's "Close" (18 px) */
[data-testid="stDialog"] button[aria-label="Close"] { min-width: 24px; min-height: 24px; }
/* a date's day, month and year fields (20 px) and its calendar button (16 px high) */
[data-testid="stDateInput"] [role="spinbutton"], [data-testid="stDateInputCalendarButton"] {
  display: inline-flex; align-items: center; justify-content: center; min-width: 24px;
  min-height: 24px; }
/* a control the focus scrolls into view stops below the app's fixed header, not under it */
[data-testid="stMain"] :is(a, button, input, textarea, summary, [tabindex]) {
  scroll-margin-top: 4.5rem; scroll-margin-bottom: 1rem; }
</style>
"""

# Re-applied whenever Streamlit redraws: React keeps attributes it does not manage, but new
# elements arrive with every run.  (No "<" inside the script: the HTML sanitiser drops a script
# whose text holds one.)
_SCRIPT = """
<span id="rk-a11y"></span>
<script>
(() => {
  if (window.__rkA11y) return;
  window.__rkA11y = true;
  const fix = () => {
    const root = document.documentElement;
    if (root.lang !== "en-GB") root.lang = "en-GB";
    // the menu is a list holding section blocks, not list items: read it as plain links
    document.querySelectorAll('[data-testid="stSidebarNavItems"]').forEach((list) => {
      if (list.getAttribute("role") !== "none") list.setAttribute("role", "none");
      list.querySelectorAll("li").forEach((item) => item.setAttribute("role", "none"));
    });
    // icon-only buttons Streamlit leaves without a name
    // (textContent, not innerText: a button inside a closed expander renders no text yet,
    // and a name set then would stay after it opens, hiding the button's own label)
    document.querySelectorAll("button:not([aria-label])").forEach((button) => {
      const icon = button.querySelector('[data-testid="stIconMaterial"]');
      const iconText = icon ? icon.textContent : "";
      if (button.textContent.replace(iconText, "").trim()) return;
      const title = button.getAttribute("title");
      const name = title || (icon && icon.textContent.replace(/_/g, " ").trim());
      if (name) button.setAttribute("aria-label", name);
    });
  };
  // A popover (the Screen page's Settings) opens with the focus left on its button, so Tab
  // walked the whole page behind it, the focus hidden under the open panel (WCAG 2.4.11): the
  // focus goes into the panel when it opens, and Tab past its last control (or Shift+Tab before
  // its first) leaves it beside its button, as a disclosure does. Escape already closes it.
  const focusable = (root) => [...root.querySelectorAll(
      'a[href], button, input, select, textarea, summary, [tabindex]')]
    .filter((e) => !e.disabled && e.tabIndex !== -1 && e.getClientRects().length && e.type !== "file");
  const entered = new WeakSet();
  const intoPopover = () => {
    const trigger = document.querySelector('[data-testid="stPopoverButton"][aria-expanded="true"]');
    const panel = document.querySelector('[data-testid="stPopoverBody"]');
    if (!trigger || !panel || entered.has(panel) || document.activeElement !== trigger) return;
    const first = focusable(panel)[0];
    if (first) { entered.add(panel); first.focus(); }
  };
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const panel = event.target.closest && event.target.closest('[data-testid="stPopoverBody"]');
    const trigger = document.querySelector('[data-testid="stPopoverButton"][aria-expanded="true"]');
    if (!panel || !trigger) return;
    const inside = focusable(panel);
    if (event.shiftKey ? event.target !== inside[0] : event.target !== inside[inside.length - 1])
      return;
    event.preventDefault();
    if (event.shiftKey) { trigger.focus(); return; }
    const page = focusable(document.body).filter((e) => !panel.contains(e));
    const next = page[page.indexOf(trigger) + 1];
    (next || trigger).focus();
  }, true);
  fix();
  // Enter or Space on a file picker's "Upload" button opens nothing in Streamlit (a click
  // does): open the file dialogue for the keyboard too (WCAG 2.1.1)
  document.addEventListener("keydown", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (!button || !button.closest('[data-testid="stFileUploaderDropzone"]')) return;
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    // when the dialogue closes the picker is redrawn (the chosen files, each with "Remove",
    // and an "Add files" button): the focus goes to that button, not lost to the page
    const widget = button.closest('[data-testid="stFileUploader"]') || button.parentElement;
    const input = widget.querySelector('input[type="file"]');
    const focusButton = () => {
      const again = [...widget.querySelectorAll('[data-testid="stFileUploaderDropzone"] button')]
        .find((b) => !(b.getAttribute("aria-label") || "").startsWith("Remove"));
      const at = document.activeElement;  // not taken from wherever the person went since
      if (again && (!at || at === document.body || at === input || !at.isConnected))
        again.focus();
    };
    // the redraw can take a while on a busy machine: wait until the picker has been still
    // for 200 ms after it began to change (at most 5 s), so the button focused is the new one
    const afterRedraw = () => {
      let quiet = null, finished = false;
      const watch = new MutationObserver(() => {
        clearTimeout(quiet);
        quiet = setTimeout(done, 200);
      });
      const done = () => {
        if (finished) return;
        finished = true;
        watch.disconnect();
        clearTimeout(limit);
        clearTimeout(quiet);
        focusButton();
      };
      const limit = setTimeout(done, 5000);
      watch.observe(widget, {childList: true, subtree: true});
    };
    if (input) {
      input.addEventListener("change", afterRedraw, {once: true});
      input.addEventListener("cancel", focusButton, {once: true});
    }
    button.click();
  }, true);
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fix(); intoPopover(); });
  }).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""


def apply_fixes() -> None:
    """Send the page-wide style and the small script that patch Streamlit's markup."""
    st.html(_STYLE)
    st.sidebar.html(_SCRIPT, unsafe_allow_javascript=True)
