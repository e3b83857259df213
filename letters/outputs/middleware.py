"""
A letter's stored pages for visitors without a session cookie, answered before
the session and login middlewares (letters/outputs/cache.py stores them).
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string

# What a request without a session cookie does not need: nobody is signed in,
# no message waits, no form is posted. The other middlewares of
# settings.MIDDLEWARE (after this one) still run, in their order.
SKIPPED_FOR_ANONYMOUS = {
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
}


def stored_page(view):
    """Marks a view whose answer to a visitor is a stored body (`respond`): see StoredPagesMiddleware."""
    view.stored_page = True
    return view


class StoredPagesMiddleware:
    """
    A letter's stored pages and exports for a visitor without a session cookie
    (who cannot be staff), through the middlewares that shape a public
    response (language, frame and content-security headers) but not those of
    sessions, logins and forms: on a viral day these requests are nearly all
    of them, and a CDN-less site answers them at the cost of a static file.
    The same views answer, so the bodies, ETags and headers are the same
    (tests/outputs/test_page_cache.py compares them).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.anonymous = self._chain()

    def _chain(self):
        def view(request):
            match = request.resolver_match
            return match.func(request, *match.args, **match.kwargs)

        handler = convert_exception_to_response(view)
        names = list(settings.MIDDLEWARE)
        later = names[names.index(f"{__name__}.{type(self).__name__}") + 1 :]
        # As Django's handler builds its chain (load_middleware), for middlewares
        # that are plain callables: those kept here have no process_view hook.
        for name in reversed([name for name in later if name not in SKIPPED_FOR_ANONYMOUS]):
            try:
                handler = convert_exception_to_response(import_string(name)(handler))
            except MiddlewareNotUsed:
                continue
        return handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "stored_page", False):
                request.resolver_match = match
                request.user = AnonymousUser()
                response = self.anonymous(request)
                # As SessionMiddleware says it: a signed-in visitor gets another page.
                patch_vary_headers(response, ["Cookie"])
                return response
        return self.get_response(request)
