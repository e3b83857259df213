"""
The staff panel, by job: letters (`letters`), signatures and the moderation
queue (`signatures`), spreadsheets in and out (`imports`), deliveries
(`deliveries`). Importing the package registers them all.
"""

from . import deliveries, letters, signatures  # noqa: F401
