"""psychanalytics: the analytics and research workbench for school mental-health services.

Built for the Zhonglou District (Changzhou) minors' growth guidance centre and
Jiangsu University of Technology: screening distributions, intervention
outcomes, staffing gaps and the other indicators of the district's three-year
plan, with privacy as a property of every output.

>>> import psychanalytics
>>> psychanalytics.__version__
'0.1.0'
"""

__version__ = "0.1.0"
