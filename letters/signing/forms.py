import copy
import functools
import unicodedata
from html import escape

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from signatories.normalize import validate_printed_line, validate_printed_name

# The honeypot: a field people never see (hidden by CSS, skipped by the
# keyboard and screen readers) and form-filling bots fill in.
HONEYPOT_FIELD = "comment"


class LineField(forms.CharField):
    """One line of text: trimmed, Unicode NFC, printable as `signatories.normalize` defines it."""

    def __init__(self, *, is_name: bool = False, **kwargs) -> None:
        self.is_name = is_name
        super().__init__(**kwargs)

    def to_python(self, value):
        return unicodedata.normalize("NFC", super().to_python(value))

    def validate(self, value) -> None:
        super().validate(value)
        # The rule of every printed line and name, wherever it is typed (signatories.normalize).
        (validate_printed_name if self.is_name else validate_printed_line)(value)


class CountrySelect(forms.Select):
    """
    A <select> whose 250 options are written in Python: Django renders each
    option through a template, which cost 25 ms of the 29 ms sign page.
    """

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs) | {"name": name}
        chosen = "" if value is None else str(value)
        options = "".join(
            f'<option value="{escape(str(code))}"{" selected" if str(code) == chosen else ""}>'
            f"{escape(str(label))}</option>"
            for code, label in self.choices
        )
        return mark_safe(f"<select{flatatt(attrs)}>{options}</select>")  # noqa: S308 - escaped above

    def __deepcopy__(self, memo):
        # The choices never change: share them instead of copying 250 pairs per form.
        result = copy.copy(self)
        result.attrs = self.attrs.copy()
        memo[id(self)] = result
        return result


@functools.cache
def _country_choices(language: str) -> list[tuple[str, str]]:
    with translation.override(language):
        return [
            ("", gettext("Choose a country (optional)")),
            *((code, str(name)) for code, name in countries),
        ]


def country_choices() -> list[tuple[str, str]]:
    """The countries by name in the page's language, worked out once per language."""
    return _country_choices(translation.get_language() or settings.LANGUAGE_CODE)


class CountryChoiceField(forms.ChoiceField):
    """ISO 3166 codes by name in the page's language, optional (the label says so)."""

    widget = CountrySelect

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=country_choices, required=False, label=_("Country (optional)"), **kwargs)

    def __deepcopy__(self, memo):
        # Every form instance deep-copies its fields; the 250 choices never
        # change, so share them (a deep copy costs milliseconds per request).
        result = forms.Field.__deepcopy__(self, memo)
        result._choices = self._choices
        return result

    def valid_value(self, value) -> bool:
        # A set look-up instead of ChoiceField's walk through 250 pairs on every signup.
        return value in _country_codes()


@functools.cache
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries)


class PublicForm(forms.Form):
    """A form of the public pages: labels without the colon Django adds."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# Signers who cannot be named (docs/design.md): counted, never listed by name.
PUBLICATION_CHOICES = [
    ("named", _("Publish my name")),
    ("unnamed", _("Count my signature but do not publish my name: for my safety")),
]


class SignatureForm(PublicForm):
    """What every signature asks for. Subclasses add the signatory's fields in front."""

    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send you a link to confirm your signature. Never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    public_consent = forms.BooleanField(
        # True of both publication choices: an unnamed signer consents to be counted, not named.
        label=_(
            "I sign this letter, and agree that my signature is published as I chose above: my name on "
            "the list, or only counted without my name."
        ),
        error_messages={
            "required": _(
                "Your signature can only be counted if you agree to its publication as you chose above."
            )
        },
    )
    contact_consent = forms.BooleanField(
        label=_("The organizers may write to me about this letter (optional)."), required=False
    )
    publication = forms.ChoiceField(
        label=_("How to publish"),
        choices=PUBLICATION_CHOICES,
        required=False,
        initial="named",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_publication(self) -> str:
        # Not sent (an older page, a script): the choice the form shows checked.
        return self.cleaned_data["publication"] or "named"

    def service_arguments(self) -> dict:
        """The form's data as keyword arguments of `letters.signing.services.signature_submit`."""
        data = dict(self.cleaned_data)
        data.pop(HONEYPOT_FIELD, None)
        data["unnamed"] = data.pop("publication", "named") == "unnamed"
        return data


class IndividualSignatureForm(SignatureForm):
    kind = "individual"

    name = LineField(
        is_name=True,
        label=_("Your name"),
        max_length=200,
        help_text=_("As it should be printed, e.g. “Tomás Ojea-Quintana”."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    title = LineField(
        label=_("Title or affiliation (optional)"),
        max_length=400,
        required=False,
        help_text=_("Printed under your name, e.g. “Professor of Law, University of Cape Town”."),
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    country = CountryChoiceField(help_text=_("Where you live or work."))
    family_name = LineField(
        label=_("Family name for the alphabetical order (optional)"),
        max_length=200,
        required=False,
        help_text=_(
            "The list is in the order of family names: “Lee” for “Lee Yanghee”, “Ojea Quintana” for "
            "“Tomás Ojea Quintana”. Left empty, the last word of your name is used."
        ),
    )

    field_order = ["name", "family_name", "title", "country", "email"]


class OrganizationSignatureForm(SignatureForm):
    kind = "organization"

    organization_name = LineField(
        is_name=True,
        label=_("Name of the organization"),
        max_length=300,
        help_text=_("As it should be printed, e.g. “Asociación Pro Derechos Humanos”."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    acronym = LineField(
        label=_("Acronym (optional)"),
        max_length=50,
        required=False,
        help_text=_("Printed after the name: “(APDH)”."),
    )
    country = CountryChoiceField(help_text=_("Where the organization is based."))
    website = forms.URLField(
        label=_("Website (optional)"), max_length=500, required=False, assume_scheme="https"
    )
    name = LineField(
        is_name=True,
        label=_("Your name"),
        max_length=200,
        help_text=_("The person signing on behalf of the organization. Never published."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["organization_name", "acronym", "country", "website", "name", "email"]

    public_consent = forms.BooleanField(
        label=_(
            "I may sign on behalf of this organization, and I agree that its signature is published as I "
            "chose above: its name on the list, or only counted without its name."
        ),
        error_messages={
            "required": _(
                "The organization’s signature can only be counted if you agree to its publication as you "
                "chose above."
            )
        },
    )


FORMS = {form.kind: form for form in (IndividualSignatureForm, OrganizationSignatureForm)}


class NewLinkForm(PublicForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("The address you signed with."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


# -- The signer's page (/manage/<token>/) ---------------------------------------


class IndividualCorrectionForm(PublicForm):
    """A new printed entry for an individual's signature."""

    name = LineField(is_name=True, label=_("Your name"), max_length=200)
    title = LineField(label=_("Title or affiliation (optional)"), max_length=400, required=False)
    country = CountryChoiceField()


class OrganizationCorrectionForm(PublicForm):
    """A new printed entry for an organization's signature."""

    name = LineField(is_name=True, label=_("Name of the organization"), max_length=300)
    acronym = LineField(label=_("Acronym (optional)"), max_length=50, required=False)
    website = forms.URLField(
        label=_("Website (optional)"), max_length=500, required=False, assume_scheme="https"
    )
    country = CountryChoiceField()


CORRECTION_FORMS = {"individual": IndividualCorrectionForm, "organization": OrganizationCorrectionForm}


class WithdrawForm(PublicForm):
    reason = forms.CharField(
        label=_("Reason (optional, seen only by the organizers)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Checked here, not only by the browser: a withdrawal cannot be undone.
    understood = forms.BooleanField(
        label=_("I understand that my signature leaves the list and that this cannot be undone."),
        error_messages={"required": _("Tick this box to confirm that you want to withdraw.")},
    )


class ListingForm(PublicForm):
    """The signer's page: how the list shows them (named or not) and, for a person, in what order."""

    publication = forms.ChoiceField(
        label=_("How to publish"), choices=PUBLICATION_CHOICES, widget=forms.RadioSelect
    )
    family_name = IndividualSignatureForm.base_fields["family_name"]

    @classmethod
    def for_signature(cls, signature, data=None) -> "ListingForm":
        initial = {"publication": "unnamed" if signature.unnamed else "named"}
        if signature.individual_id:
            initial["family_name"] = signature.individual.family_name
        form = cls(data, initial=initial)
        if not signature.individual_id:
            del form.fields["family_name"]  # an organization sorts by its sort name, set by staff
        return form


# -- "Is your name here without your consent?" (/letters/<slug>/dispute/) ------


class DisputeForm(PublicForm):
    """
    A reader's word that an entry of the list was signed without its owner's
    consent. `entry` offers the named entries of today's list only: an unnamed
    signer has no name on it to dispute, and the choices must never reveal one.
    """

    entry = forms.TypedChoiceField(
        label=_("Which entry"), coerce=int, help_text=_("The name as it is listed today.")
    )
    contact_email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("The organizers write to you here. Never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    message = forms.CharField(
        label=_("What happened"),
        max_length=5000,
        help_text=_("For example: “That is my name and I did not sign.” Seen only by the organizers."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    comment = SignatureForm.base_fields[HONEYPOT_FIELD]

    def __init__(self, *args, entries: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entry"].choices = [("", gettext("Choose the entry")), *entries]

    def clean_message(self) -> str:
        message = "".join(
            char
            for char in self.cleaned_data["message"]
            if char in "\n\t" or unicodedata.category(char)[0] != "C"
        ).strip()
        if not message:
            raise forms.ValidationError(gettext("Tell the organizers what happened."))
        return message
