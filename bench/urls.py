"""
The site's URLs plus the two views bench/signup_load.py compares signing with:
/bench/one-insert (the ceiling) and /bench/<slug>/signup-floor (what any signup request costs).
"""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/one-insert", views.one_insert),
    path("bench/<slug:slug>/signup-floor", views.signup_floor),
    path("", include("config.urls")),
]
