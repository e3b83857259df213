import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# What every request may need, loaded once at start-up: with gunicorn's
# preload_app (gunicorn.conf.py) the master loads it and the workers it forks
# share it, instead of each paying for it on its first signup (the collation
# table takes 0.15 s and 100,000 objects). Then freeze what is loaded, so the
# garbage collector never walks it again and the forked workers' shared
# memory pages stay shared.
from signatories.normalize import collation_key  # noqa: E402

collation_key("warm")
gc.freeze()
