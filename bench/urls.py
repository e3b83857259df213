"""The site's URLs plus /bench/one-insert, the ceiling bench/signup_load.py compares signing with."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/one-insert", views.one_insert),
    path("", include("config.urls")),
]
