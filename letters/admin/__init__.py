"""
The staff panel, by job: letters (`letters`), signatures and the moderation
queue (`signatures`), spreadsheets in and out (`imports`), deliveries
(`deliveries`), the address book and invitations (`invitations`), disputes of listed
names (`disputes`), organizations and individuals with their merges (`signatories`).
Importing the package registers them all.
"""

from letters.admin import dashboard, deliveries, disputes, invitations, letters, signatories, signatures  # noqa: F401
