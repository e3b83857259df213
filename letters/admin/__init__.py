"""
The staff panel, by job: letters (`letters`), signatures and the moderation
queue (`signatures`), spreadsheets in and out (`imports`), deliveries
(`deliveries`), disputes of listed names (`disputes`), organizations and individuals with their merges
(`signatories`). Importing the package registers them all.
"""

from letters.admin import dashboard, deliveries, disputes, letters, signatories, signatures  # noqa: F401
