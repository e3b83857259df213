from django.http import HttpRequest
from django.urls import path

from .staff import StaffAdminSite


class UndersignedAdminSite(StaffAdminSite):
    """The staff panel, named Undersigned, opening on a dashboard of letters (letters/admin/dashboard.py)."""

    site_header = "Undersigned"
    site_title = "Undersigned"
    index_title = "Letters"
    index_template = "admin/dashboard.html"
    # The moderation queue needs the width at 1280 px; the dashboard and the
    # breadcrumbs lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def get_urls(self):
        # Imported here: the admin modules register themselves on this site while it is being made.
        from letters.admin.dashboard import digest_toggle

        return [path("digest/", self.admin_view(digest_toggle), name="digest"), *super().get_urls()]

    def index(self, request: HttpRequest, extra_context=None):
        from letters.admin.dashboard import dashboard

        return super().index(request, {"dashboard": dashboard(request), **(extra_context or {})})
