"""
The staff panel: Django's admin, named Undersigned, asking for the second
factor where settings.STAFF_REQUIRE_2FA wants it (staff/signin.py), and opening
on the dashboard that `letters.admin` registers (`register_dashboard`), so this
app never imports the letters it shows.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.urls import URLPattern, path

from staff.signin import TwoFactorLoginForm, two_factor_setup

Dashboard = Callable[[HttpRequest], dict]

# The apps of django-axes (login lockouts), django-otp (second-factor devices)
# and django-tasks (task results): for superusers; organizers and moderators
# never see them on the dashboard or in the menus.
SUPERUSER_APPS = {"axes", "otp_totp", "django_tasks_database"}


class StaffAdminSite(AdminSite):
    site_header = "Undersigned"
    site_title = "Undersigned"
    index_title = "Letters"
    index_template = "admin/dashboard.html"
    # The moderation queue needs the width at 1280 px; the dashboard and the
    # breadcrumbs lead everywhere the sidebar did.
    enable_nav_sidebar = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._dashboard: Dashboard | None = None
        self._dashboard_urls: list[URLPattern] = []

    def register_dashboard(self, dashboard: Dashboard, urls: list[URLPattern]) -> None:
        """The first page's context (`dashboard(request)`), and the views it posts to (staff only)."""
        self._dashboard = dashboard
        self._dashboard_urls = urls

    @property
    def login_form(self):
        return TwoFactorLoginForm if settings.STAFF_REQUIRE_2FA else AdminAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.STAFF_REQUIRE_2FA else None

    def has_permission(self, request: HttpRequest) -> bool:
        allowed = super().has_permission(request)
        if settings.STAFF_REQUIRE_2FA:
            return allowed and request.user.is_verified()
        return allowed

    def get_urls(self):
        dashboard = [
            path(str(url.pattern), self.admin_view(url.callback), name=url.name)
            for url in self._dashboard_urls
        ]
        return [
            path("2fa/", self.admin_view(self.two_factor_view), name="two_factor_setup"),
            *dashboard,
            *super().get_urls(),
        ]

    def _build_app_dict(self, request: HttpRequest, label=None):
        """Without the machinery organizers need not see: lockouts, devices, task results (SUPERUSER_APPS)."""
        app_dict = super()._build_app_dict(request, label)
        if request.user.is_superuser:
            return app_dict
        if label is not None:
            return {} if label in SUPERUSER_APPS else app_dict
        return {name: app for name, app in app_dict.items() if name not in SUPERUSER_APPS}

    def index(self, request: HttpRequest, extra_context=None):
        dashboard = self._dashboard(request) if self._dashboard else {}
        return super().index(request, {"dashboard": dashboard, **(extra_context or {})})

    def two_factor_view(self, request: HttpRequest):
        return two_factor_setup(request, context=self.each_context(request))
