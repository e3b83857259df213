"""British English as the staff panel writes moments: the same formats as config/formats/en."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

from config.formats.en.formats import (  # noqa: F401
    DATE_INPUT_FORMATS,
    DATETIME_FORMAT,
    DATETIME_INPUT_FORMATS,
    SHORT_DATETIME_FORMAT,
    TIME_FORMAT,
)
