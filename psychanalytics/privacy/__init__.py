"""Privacy: keyed pseudonyms and what leaders may see (the hash-chained audit log is in ``store.audit``).

Screening, archive, crisis and counselling data of minors are sensitive
personal information (PIPL Art. 28); every output passes through here. Every
number a leader sees goes through :func:`leader_view` (``privacy.policy``),
which applies the small-cell suppression passes of ``privacy.suppression``;
tables published together (the leaders' mart) pass through
:func:`~psychanalytics.privacy.linked.suppress_linked` as well.
"""

from psychanalytics.privacy.policy import (
    PROTECTED_MARKER,
    LeaderView,
    leader_view,
    marker_note,
    shown_text,
    small_marker,
)

__all__ = ["PROTECTED_MARKER", "LeaderView", "leader_view", "marker_note", "shown_text", "small_marker"]
