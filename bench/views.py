"""
Views that exist only for bench/signup_load.py, mounted by bench/urls.py
(DJANGO_SETTINGS_MODULE=bench.settings).
They measure the ceilings the signup path is compared with.
"""

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_insert (payload varchar(254) NOT NULL, created_at varchar(40) NOT NULL)"
)


@csrf_exempt
@require_POST
def one_insert(request: HttpRequest) -> HttpResponse:
    """Exactly one durable INSERT per request: the ceiling of a request that writes once."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_insert (payload, created_at) VALUES (%s, %s)",
            [request.POST.get("email", "")[:254], timezone.now().isoformat()],
        )
    return HttpResponse(status=204)
