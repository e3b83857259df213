from django.contrib import admin

from .models import Individual, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "acronym", "country", "website", "updated_at"]
    list_filter = ["country"]
    search_fields = ["name", "acronym", "sort_name", "contact_name", "contact_email"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "acronym", "country", "website", "sort_name"]}),
        ("Private", {"fields": ["contact_name", "contact_email", "notes"]}),
    ]


@admin.register(Individual)
class IndividualAdmin(admin.ModelAdmin):
    list_display = ["name", "sort_name", "title", "country", "email", "updated_at"]
    list_filter = ["country"]
    search_fields = ["name", "sort_name", "title", "email", "canonical_email"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "sort_name", "title", "country"]}),
        ("Private", {"fields": ["email", "notes"]}),
    ]
