"""reviewkit: import, deduplicate, screen and map research evidence, beside local stories.

The public API is what ``__all__`` names; the CLI (``python -m reviewkit``) and the Streamlit
pages are thin shells over these functions.

Each name is imported when first used (PEP 562), not with the package: a page that only
screens records should not load every file format's reader on a fresh server.
"""

from __future__ import annotations

from importlib import import_module

_WHERE = {
    "DuplicateImportError": "reviewkit.errors",
    "FormatError": "reviewkit.errors",
    "NotFoundError": "reviewkit.errors",
    "Record": "reviewkit.records",
    "ReviewkitError": "reviewkit.errors",
    "Store": "reviewkit.store",
    "detect_format": "reviewkit.formats",
    "export_records": "reviewkit.importing",
    "import_file": "reviewkit.importing",
    "preview_file": "reviewkit.importing",
    "read_records": "reviewkit.formats",
    "write_records": "reviewkit.formats",
}

__all__ = [
    "DuplicateImportError",
    "FormatError",
    "NotFoundError",
    "Record",
    "ReviewkitError",
    "Store",
    "detect_format",
    "export_records",
    "import_file",
    "preview_file",
    "read_records",
    "write_records",
]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'reviewkit' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
