from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from ..models import Letter
from ..rosters import AsOfError, Roster


def get_letter_for_visitor(request: HttpRequest, slug: str) -> Letter:
    """Drafts are 404 for the public; staff may preview them."""
    letters = Letter.objects.all() if request.user.is_staff else Letter.objects.public()
    return get_object_or_404(letters, slug=slug)


def bad_as_of(request: HttpRequest, letter: Letter, error: AsOfError) -> HttpResponse:
    return render(request, "letters/bad_as_of.html", {"letter": letter, "message": str(error)}, status=400)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    letters = Letter.objects.public().order_by("-opens_at", "-created_at")
    return render(
        request,
        "letters/index.html",
        {
            "open_letters": [letter for letter in letters if letter.status == Letter.Status.OPEN],
            "closed_letters": [letter for letter in letters if letter.status == Letter.Status.CLOSED],
        },
    )


@require_safe
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_letter_for_visitor(request, slug)
    try:
        roster = Roster.for_request(letter, request.GET.get("as_of"))
    except AsOfError as error:
        return bad_as_of(request, letter, error)
    return render(request, "letters/detail.html", {"letter": letter, "roster": roster})
