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
from django.utils.cache import patch_cache_control
from django.views import defaults
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from letters import languages, lifecycle
from letters.lifecycle.retention import letter_has_closed
from letters.models import Delivery, Letter, LetterTranslation
from letters.outputs import cache
from letters.outputs.middleware import stored_page
from letters.rosters import AsOfError, Roster, RosterPage, one_snapshot
from letters.signing import ratelimits
from letters.signing.clients import client_ip
from staff.access import is_staff


def get_letter_for_visitor(request: HttpRequest, slug: str, *, key_opens: bool = False) -> Letter:
    """
    The one rule of who sees a letter. Drafts are 404 for the public; staff
    may preview them. A circulating letter (its publication moment not yet
    come: `Letter.from_db` reads it open after) is 404 too, to anyone but
    staff and, where `key_opens` (the signing pages, never a stored page),
    whoever brings its private key (?key=): `request.private_link` is then
    the key, for links and headers (`private_link_headers`). A wrong key is
    the 404 of a letter that does not exist. The page is then in the letter's
    language, or the one asked for with ?lang= (letters/languages.py).
    """
    staff = is_staff(request)
    query = _letter_query(staff)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, [slug if value == _SLUG else value for value in query.params])
        row = cursor.fetchone()
    letter = query.letter(row) if row is not None else None
    key = _private_key(request) if key_opens else ""
    if key and (letter is None or staff or not letter.private_key_matches(key)):
        _key_attempt_failed(request)
    if letter is None or (not staff and letter.is_circulating() and not letter.private_key_matches(key)):
        raise Http404("No letter here.")
    if key and letter.private_key_matches(key):
        request.private_link = key
    versions = languages.activate_for_letter(request, letter)
    if getattr(request, "private_link", ""):
        versions.links = functools.partial(_links_with_key, versions.links, key)
    return letter


def _links_with_key(links, key: str, request: HttpRequest) -> list:
    """
    The language switcher of a page reached through the private link: each
    link keeps the key, or the signer switching language would get a 404. Only
    the links a visitor follows; the <link rel="alternate"> of the page's head
    name the public address (the page is noindex anyway).
    """
    return [
        dataclasses.replace(link, url=f"{link.url}{'&' if '?' in link.url else '?'}key={key}")
        for link in links(request)
    ]


class KeyAttemptsLimited(Exception):
    """Too many wrong private keys from one client (settings.PRIVATE_LINK_RATE_LIMIT)."""


def _private_key(request: HttpRequest) -> str:
    key = request.GET.get("key") or request.POST.get("key") or ""
    return key if len(key) <= 64 else "\0"  # a key of ours is 32 characters


def _key_attempt_failed(request: HttpRequest) -> None:
    """Counts a wrong key (never logged) against the client's allowance; raises once it is used up."""
    if ratelimits.hit("private-key", client_ip(request), settings.PRIVATE_LINK_RATE_LIMIT)[0]:
        raise KeyAttemptsLimited


def private_link_headers(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """
    A page reached through a private link: kept by no cache (its address
    holds the key), indexed by no search engine, and no link on it tells the
    next site where the visitor came from.
    """
    if getattr(request, "private_link", ""):
        cache.private_headers(response)
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def private_link_view(view):
    """
    A view a private link opens (`key_opens`): its answer gets
    `private_link_headers`, and too many wrong keys from one client get 429.
    """

    @functools.wraps(view)
    def answered(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except KeyAttemptsLimited:
            response = render(request, "429.html", {}, status=429)
            patch_cache_control(response, no_store=True, max_age=0)
            return response
        return private_link_headers(response, request)

    return answered


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """
    settings' handler404: every 404 kept by no cache, so a letter that is not
    public yet (a circulating one: the same 404 as no letter at all) is seen
    the moment its publication comes, whatever stood between.
    """
    response = defaults.page_not_found(request, exception)
    patch_cache_control(response, no_store=True, max_age=0)
    return response


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
    # Circulating letters are read too: whether one is public yet is decided on the row
    # (Letter.from_db), so the query compiled once holds no moment.
    letters = Letter.objects.all() if staff else Letter.objects.exclude(status=Letter.Status.DRAFT)
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
    closed = [letter for letter in letters if letter_has_closed(letter, now)]
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


@require_safe
@private_link_view
def text_versions(request: HttpRequest, slug: str) -> HttpResponse:
    """Every version of the letter's text: its date, its note and what changed from the one before."""
    letter = get_letter_for_visitor(request, slug, key_opens=True)
    versions = list(letter.text_versions.order_by("number"))
    entries = [
        {"version": version, "diff": lifecycle.diff_html(before, version) if before else ""}
        for before, version in zip([None, *versions], versions, strict=False)
    ]
    entries.reverse()  # the current text first
    return render(request, "letters/versions.html", {"letter": letter, "entries": entries})
