import contextlib
import dataclasses
import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from letters import languages
from letters.models import Delivery, Letter, LetterTranslation
from letters.outputs import cache
from letters.outputs.middleware import stored_page
from letters.rosters import AsOfError, Roster, RosterPage, one_snapshot
from letters.templatetags.letters_index import has_closed
from staff.access import is_staff


def get_letter_for_visitor(request: HttpRequest, slug: str) -> Letter:
    """
    Drafts are 404 for the public; staff may preview them. The page is then in
    the letter's language, or the one asked for with ?lang= (letters/languages.py).
    """
    query = _letter_query(is_staff(request))
    with connection.cursor() as cursor:
        cursor.execute(query.sql, [slug if value == _SLUG else value for value in query.params])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No letter here.")
    letter = query.letter(row)
    languages.activate_for_letter(request, letter)
    return letter


_SLUG = "\0slug"


@dataclasses.dataclass(frozen=True)
class _LetterQuery:
    """A compiled query for one letter and what turns its row into the Letter (as the ORM would)."""

    sql: str
    params: tuple
    fields: list[str]  # the model's fields…
    positions: list[int]  # …and where they are in the row
    annotations: dict[str, int]  # name → position in the row
    converters: dict  # position → (functions, expression), from the compiler

    def letter(self, row: tuple) -> Letter:
        values = list(row)
        for position, (functions, expression) in self.converters.items():
            for function in functions:
                values[position] = function(values[position], expression, connection)
        letter = Letter.from_db(DEFAULT_DB_ALIAS, self.fields, [values[i] for i in self.positions])
        for name, position in self.annotations.items():
            setattr(letter, name, values[position])
        return letter


@functools.cache
def _letter_query(staff: bool) -> _LetterQuery:
    """
    The letter, the number of its newest delivery (part of what its page
    shows; deliveries are never changed nor deleted) and whether it has
    translations at all, compiled once per process: on a cached page this one
    query is all the work, and building it through the ORM each time cost more
    than running it (as did RawQuerySet's reading of its row).
    """
    letters = Letter.objects.all() if staff else Letter.objects.public()
    newest = Delivery.objects.filter(letter=OuterRef("pk")).order_by("-number").values("number")[:1]
    translated = Exists(LetterTranslation.objects.filter(letter=OuterRef("pk")))
    letters = letters.annotate(newest_delivery=Subquery(newest), has_translations=translated)
    compiler = letters.filter(slug=_SLUG).query.get_compiler(DEFAULT_DB_ALIAS)
    sql, params = compiler.as_sql()
    positions = compiler.klass_info["select_fields"]
    fields = [compiler.select[position][0].target.attname for position in positions]
    converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
    annotations = dict(compiler.annotation_col_map)
    return _LetterQuery(sql, tuple(params), fields, positions, annotations, converters)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """
    A form refused by the CSRF check (settings.CSRF_FAILURE_VIEW), mostly for
    a cookie the browser blocked or lost: says how to send it again, in the
    language the form was in. That of the letter whose page it was on
    (/letters/<slug>/…, ?lang= first, as its view would choose), else the ?lang=
    one LanguageMiddleware has already activated.
    """
    letter = None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if match is not None and match.namespace == "letters" and "slug" in match.kwargs:
        with contextlib.suppress(Http404):  # a draft, or no such letter: the page stays as it is
            letter = get_letter_for_visitor(request, match.kwargs["slug"])
    return render(request, "403_csrf.html", {"letter": letter}, status=403)


def bad_as_of(request: HttpRequest, letter: Letter, error: AsOfError) -> HttpResponse:
    return render(request, "letters/bad_as_of.html", {"letter": letter, "message": str(error)}, status=400)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    letters = Letter.objects.public().order_by("-opens_at", "-created_at")
    letters = languages.with_texts(letters, request.LANGUAGE_CODE)
    now = timezone.now()
    closed = [letter for letter in letters if has_closed(letter, now)]
    return render(
        request,
        "letters/index.html",
        {
            "open_letters": [letter for letter in letters if letter not in closed],
            "closed_letters": closed,
        },
    )


@stored_page
@require_safe
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    try:
        roster = RosterPage.for_request(
            letter, request.GET.get("as_of"), request.GET.get("page"), request.GET.get("q", "")
        )
    except AsOfError as error:
        return bad_as_of(request, letter, error)

    def page() -> list[bytes]:
        roster.read_together()  # the count and the names of one moment
        context = {"letter": letter, "roster": roster, "site_url": settings.SITE_URL}
        return [render_to_string("letters/detail.html", context, request).encode()]

    # Links keep ?lang= when the visitor chose the language (letters/languages.py).
    options = (
        roster.number,
        letter.is_accepting_signatures(),
        letter.newest_delivery,
        request.language_requested,
    )
    # A search can be any words: answered live, never stored.
    key = None if roster.is_searching else cache.page_key(roster, "page", *options)
    return cache.respond(request, key, page, content_type="text/html; charset=utf-8")


@stored_page
@require_safe
@xframe_options_exempt
@csp_override({**settings.SECURE_CSP, "frame-ancestors": ["*"]})
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """A box other sites may frame: the count, the five latest names, a link to sign. No script."""
    letter = get_letter_for_visitor(request, slug)
    roster = Roster(letter)

    def box() -> list[bytes]:
        latest = roster.signatures().order_by("-signed_at", "-pk")
        latest = latest.values_list("individual__name", "organization__name", "organization__acronym")
        with one_snapshot():  # the count and the latest names of one moment
            counts, rows = RosterPage(letter).counts, list(latest[:5])
        context = {
            "letter": letter,
            "counts": counts,
            "latest": [person or (f"{org} ({acronym})" if acronym else org) for person, org, acronym in rows],
            "accepting": letter.is_accepting_signatures(),
            "site_url": settings.SITE_URL,
        }
        return [render_to_string("letters/embed.html", context, request).encode()]

    key = cache.page_key(roster, "embed", letter.is_accepting_signatures(), request.language_requested)
    return cache.respond(request, key, box, content_type="text/html; charset=utf-8")
