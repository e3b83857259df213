"""
gunicorn's access log without what ties a visitor to a signature: no client
address (a hostile reader of the log could match it with a name), the tokens of
signers' links blanked (config/logs.py), no request headers or environment
(cookies, forwarded addresses). gunicorn.conf.py names it as `logger_class`.
"""

from gunicorn import glogging

from config.logs import redact


class AccessLogger(glogging.Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = {
            key: value
            for key, value in super().atoms(resp, req, environ, request_time).items()
            if not key.startswith("{")  # {header}i, {header}o, {variable}e
        }
        atoms["h"] = "-"
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
