"""Privacy: keyed pseudonyms, small-cell suppression, research extracts, audit.

Screening, archive, crisis and counselling data of minors are sensitive
personal information (PIPL Art. 28); every output passes through here.
"""
