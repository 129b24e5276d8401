"""Privacy: keyed pseudonyms and small-cell suppression (the hash-chained audit log is in ``store.audit``).

Screening, archive, crisis and counselling data of minors are sensitive
personal information (PIPL Art. 28); every output passes through here.
"""
