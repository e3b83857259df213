from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class StaffConfig(AppConfig):
    """Staff sign-in, the admin site, `manage.py totp_device` and the deployment checks."""

    name = "staff"
    verbose_name = "Staff"

    def ready(self) -> None:
        from staff import checks  # noqa: F401 (registers the deployment checks)


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin (in INSTALLED_APPS in its place) on our site: staff/site.py."""

    default_site = "staff.site.StaffAdminSite"
