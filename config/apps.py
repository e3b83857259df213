from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """
    django.contrib.admin with our admin site (config/site.py): Undersigned's
    dashboard of letters, on config/staff.py's sign-in with the optional second factor.
    """

    default_site = "config.site.UndersignedAdminSite"
