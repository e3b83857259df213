from django import template

from letters.signing.forms import FORMS

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_forms(context, form, kinds) -> dict:
    """
    The sign page's form for every kind the letter accepts: the view's own
    `form` for the kind chosen, and for the other kind a form holding what was
    typed, so that one page carries both sets of fields and switching between
    "individual" and "organization" (with CSS, no script, no round trip) loses
    nothing.
    """
    request = context["request"]
    typed = request.POST if request.method == "POST" else {}
    forms = {}
    for kind in kinds:
        if kind == form.kind:
            forms[kind] = form
        else:
            other = FORMS[kind](initial={name: typed.get(name, "") for name in FORMS[kind].base_fields})
            forms[kind] = other
    return forms
