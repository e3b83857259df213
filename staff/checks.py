"""
Deployment checks of ours, shown by `manage.py check --deploy` beside
Django's: settings that work on a laptop but quietly hurt signers in production.
Registered by `letters.apps.LettersConfig.ready`.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 (a name to compare, not a bind)


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs) -> list[Warning]:
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host in LOOPBACK_HOSTS or not host:
        return [
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}: every link in signers' e-mails "
                "(confirm, manage, withdraw) would point at this machine, not at the site.",
                hint="Set SITE_URL to the public address, e.g. https://letters.example.org.",
                id="undersigned.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def proxy_client_address_check(app_configs, **kwargs) -> list[Warning]:
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    if behind_proxy and not getattr(settings, "RATELIMIT_IP_META_KEY", None):
        return [
            Warning(
                "SECURE_PROXY_SSL_HEADER says a proxy is in front, but the rate limits and IP hashes "
                "key on REMOTE_ADDR, which is then the proxy's address: every visitor shares one "
                "limit and one hash.",
                hint="Set RATELIMIT_IP_META_KEY to the header the proxy sets, e.g. HTTP_X_REAL_IP.",
                id="undersigned.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def staff_second_factor_check(app_configs, **kwargs) -> list[Warning]:
    if not settings.STAFF_REQUIRE_2FA:
        return [
            Warning(
                "Staff can sign in with a password alone, and the staff panel holds every signer's "
                "e-mail address.",
                hint="Set STAFF_REQUIRE_2FA=true once every staff member has set up /admin/2fa/ "
                "(or been given a key with manage.py totp_device).",
                id="undersigned.W003",
            )
        ]
    return []
