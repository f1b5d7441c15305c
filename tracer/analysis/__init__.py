"""Analysis: one index over a finished trace, and what is derived from it.

Step totals, findings and explanations all read the same index.
"""
