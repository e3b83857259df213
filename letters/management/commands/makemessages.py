from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Django's makemessages, without fuzzy matching."""

    # A fuzzy entry is another string's translation, which Django never shows
    # and a translator easily misses: new strings stay empty instead, and the
    # untranslated-string sweep (tests/roster/test_languages.py) finds them.
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
