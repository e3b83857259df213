from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class BoundedSearchMixin(admin.ModelAdmin):
    """
    Admin search that a pasted essay cannot turn into a 500: Django ORs every
    word over every search field, and a few thousand words exceed SQLite's
    expression depth (and PostgreSQL refuses NUL characters).
    """

    max_search_terms = 8
    max_search_length = 200

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        search_term = search_term.replace("\x00", "")[: self.max_search_length]
        search_term = " ".join(search_term.split()[: self.max_search_terms])
        return super().get_search_results(request, queryset, search_term)
