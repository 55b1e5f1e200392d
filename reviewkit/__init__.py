"""reviewkit: import, deduplicate, screen and map research evidence, beside local stories.

The public API is what ``__all__`` names; the CLI (``python -m reviewkit``) and the Streamlit
pages are thin shells over these functions.
"""

from reviewkit.errors import DuplicateImportError, FormatError, NotFoundError, ReviewkitError
from reviewkit.formats import detect_format, read_records, write_records
from reviewkit.importing import export_records, import_file, preview_file
from reviewkit.records import Record
from reviewkit.store import Store

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
