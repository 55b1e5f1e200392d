"""The Streamlit pages: the only package that imports streamlit.  Pages gather input, call
the library, and show results."""
