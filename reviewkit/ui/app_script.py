"""reviewkit's app: which pages exist, and which of them the person here may open.

Streamlit runs this script for every visit and every click; ``streamlit_app.py`` (run with
``streamlit run streamlit_app.py``) is the server around it.
"""

from importlib import import_module

import streamlit as st

from reviewkit.ui import accessibility, common, login_page, page_list


def _page_of(module: str):
    """The page's ``render``, its module imported only when the page is first opened: a fresh
    server then loads only what the page asked for (not every page's libraries) before it
    answers."""
    def render() -> None:
        import_module(f"reviewkit.ui.{module}").render()
    render.__name__ = module
    return render


st.set_page_config(page_title="reviewkit", page_icon=":material/library_books:", layout="wide")


def _page(spec: page_list.PageSpec) -> st.Page:
    """The Streamlit page for one row of the page list."""
    return st.Page(_page_of(spec.module), title=spec.title, icon=f":material/{spec.icon}:",
                   url_path=spec.url_path)


# (section, page, the action a person must be allowed in the chosen review to see it)
PAGES = [(spec.section, _page(spec), spec.action) for spec in page_list.PAGE_SPECS]


def _behind_the_door(page: st.Page, action: str):
    """A page this person may not open, kept at its address: the login form for a visitor
    (who then lands on the page the link named), else a plain refusal — never "Page not found"."""
    def gate() -> None:
        if common.accounts_on() and common.current_user() is None:
            login_page.render()
        else:
            common.require_page(action, common.current_review())
            st.info("Choose or create a review on the Overview page first.")
    return st.Page(gate, title=page.title, icon=page.icon, url_path=page.url_path,
                   visibility="hidden")


def _door(url_path: str, first: st.Page) -> st.Page:
    """An address that is no page of its own (the app's root; Log in once logged in): it sends
    the person on to the first page of their menu, keeping the address's query string."""
    def door() -> None:
        st.switch_page(first, query_params=st.query_params.to_dict())
    door.__name__ = f"door_{url_path or 'root'}"
    return st.Page(door, title="reviewkit", url_path=url_path or "start", visibility="hidden",
                   default=not url_path)


review = common.pick_review()  # nothing drawn yet: a door sends the person on first
user = common.current_user()
sections: dict[str, list] = {}
hidden: list = []
if common.accounts_on() and user is None:
    sections[page_list.LOGIN.section] = [_page(page_list.LOGIN)]
for section, page, action in PAGES:
    if action == "signed_in":
        visible = user is not None
    elif action == "archive.export":
        visible = common.allowed(action, review) or common.allowed("archive.import")
    else:
        visible = common.allowed(action, review if action != "review.create" else None)
    if visible:
        sections.setdefault(section, []).append(page)
    else:
        hidden.append(_behind_the_door(page, action))
if review is None and common.allowed("review.create") and not sections.get("Review"):
    # a researcher with no review yet still needs the Overview to start one
    sections.setdefault("Review", []).insert(0, PAGES[0][1])
    hidden = [h for h in hidden if h.url_path != PAGES[0][1].url_path]
by_approach = [p for p in sections.get("Evidence", []) if p.url_path == "evidence-by-approach"]
if "Review" not in sections and by_approach:
    # a commissioner's front page: the question they come with, typed in their own words
    sections["Evidence"] = by_approach + [p for p in sections["Evidence"] if p not in by_approach]
    sections = {"Evidence": sections["Evidence"], **sections}
common.remember_pages([page for pages in sections.values() for page in pages])
first_page = next(iter(sections.values()))[0]
# Every page keeps its own address (the first menu page too, which Streamlit would otherwise
# serve only at "/" and answer "Page not found" at its name); "/" and, once logged in,
# "/login" lead on to the first page of this person's menu.
doors = [_door("", first_page)] + ([] if page_list.LOGIN.section in sections
                                   else [_door(page_list.LOGIN.url_path, first_page)])
hidden.extend(doors)
# reachable by their address, never listed in the menu
sections.setdefault(next(iter(sections)), []).extend(hidden)
navigation = st.navigation(sections, expanded=True)  # every page in view, never "View more"
if navigation in doors:
    navigation.run()  # switches page before the sidebar is drawn, so nothing races the switch
common.draw_sidebar()
accessibility.apply_fixes()
navigation.run()
