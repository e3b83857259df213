"""
Who is asking: the visitor's address as every limit and hash of ours counts it
(the signup rate limit, the IP hash stored with a signature, the staff login
lock-out of django-axes).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """
    The visitor's address: REMOTE_ADDR, or the header a proxy in front sets
    (settings.RATELIMIT_IP_META_KEY, e.g. HTTP_X_REAL_IP). Of a list
    (X-Forwarded-For), the last address: the one our proxy appended; those
    before it are what the client wrote, and anyone can write anything there.
    IPv6 addresses count
    per /64 network, as one household or phone usually has a whole one; an
    IPv4 visitor of a dual-stack listener (`::ffff:198.51.100.7`) counts as
    its IPv4 address, not as the one /64 all of IPv4 shares.
    """
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    value = request.META.get(meta_key, "").split(",")[-1].strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return value
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)
