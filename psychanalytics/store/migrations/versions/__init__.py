"""The store's schema revisions, one file each (``NNNN_slug.py``), ``0001`` the baseline.

Alembic reads these files itself; see DESIGN.md, decision 21, for how to add one.
"""
