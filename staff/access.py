from django.contrib import admin
from django.http import HttpRequest


def is_staff(request: HttpRequest) -> bool:
    """
    Whether a request is staff's wherever the site asks (a draft's preview, a
    delivered PDF kept for staff, an upload): as the admin decides it, so with
    STAFF_REQUIRE_2FA a session that gave only the password is a visitor.
    """
    return admin.site.has_permission(request)
