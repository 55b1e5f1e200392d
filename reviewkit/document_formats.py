"""The documents reviewkit writes, named once: the command line's choices, the app's buttons
and the public site's links all read these (kept free of heavy imports, so the command line
can offer them without loading the writers)."""

BRIEF_FORMATS = {"md": "Markdown", "docx": "Word", "pdf": "PDF"}
APPENDIX_FORMATS = {"md": "Markdown", "docx": "Word"}
