from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with our admin site (config/staff.py): the optional second factor."""

    default_site = "config.staff.StaffAdminSite"
