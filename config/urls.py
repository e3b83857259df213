from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", include("letters.urls")),
]

if settings.BENCHMARK_VIEWS:
    from bench import views as bench_views

    urlpatterns.insert(0, path("bench/one-insert", bench_views.one_insert))
