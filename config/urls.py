from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("", include("letters.urls")),
]

# Every 404 kept by no cache: a circulating letter turns public at its moment (letters/views/public.py).
handler404 = "letters.views.public.page_not_found"
