"""Widgets for review settings, drawn from the declaration in reviewkit.review_settings."""

from __future__ import annotations

from typing import Any

import streamlit as st

from reviewkit.review_settings import BY_NAME, SETTINGS, Setting, setting_value, stored_value


def setting_widget(setting: Setting, current: Any, *, key: str, disabled: bool = False) -> Any:
    """Draw the widget for one setting, showing ``current``; return what it holds now."""
    common = {"help": setting.help, "key": key, "disabled": disabled}
    if setting.kind == "text":
        return st.text_area(setting.label, value=current or "", height=80, **common)
    if setting.kind == "lines":
        return st.text_area(f"{setting.label} (one per line)", value="\n".join(current or []),
                            height=120, **common)
    if setting.kind == "number":
        options = list(setting.choices)
        return st.radio(setting.label, options, index=options.index(current) if current in options
                        else 0, horizontal=True, **common)
    if setting.kind == "choice":
        options = list(setting.choices)
        return st.selectbox(setting.label, options, index=options.index(current)
                            if current in options else options.index(setting.default),
                            format_func=lambda x: f"{x:.0%}" if isinstance(x, float)
                            and not setting.name.endswith("kappa") else setting.choice_label(x),
                            **common)
    if setting.default is None:  # on, off, or following another setting
        # None as an option reads as 'nothing chosen' to Streamlit once the page reruns, which
        # then showed 'Choose an option' instead of Automatic
        options = ["automatic", True, False]
        chosen = st.selectbox(setting.label, options,
                              index=options.index("automatic" if current is None else current),
                              format_func=lambda x: {"automatic": "Automatic", True: "On",
                                                     False: "Off"}[x], **common)
        return None if chosen == "automatic" else chosen
    return st.toggle(setting.label, value=bool(current), **common)


def settings_widgets(review, names: list[str] | None = None, *, prefix: str,
                     disabled: bool = False) -> dict[str, Any]:
    """Draw widgets for the named settings (all by default); ``review=None`` shows defaults."""
    values = {}
    for setting in (SETTINGS if names is None else [BY_NAME[n] for n in names]):
        if review is not None and setting.default is None:
            current = stored_value(review, setting.name)
        elif review is not None:
            current = setting_value(review, setting.name)
        elif setting.kind == "lines":
            current = list(setting.default)
        else:
            current = setting.default
        values[setting.name] = setting_widget(setting, current, key=f"{prefix}_{setting.name}",
                                              disabled=disabled)
    return values
