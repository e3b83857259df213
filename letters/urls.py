from django.urls import path

from .views import outputs, public, signup  # noqa: F401

app_name = "letters"

urlpatterns = [
    path("", public.index, name="index"),
    path("letters/<slug:slug>/", public.detail, name="detail"),
    # Signing (letters/views/signup.py)
    # Delivery outputs (letters/views/outputs.py)
]
