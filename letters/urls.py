from django.urls import path

from letters.views import address, disputes, invitations, outputs, public, signup

app_name = "letters"

urlpatterns = [
    path("", public.index, name="index"),
    path("letters/<slug:slug>/", public.detail, name="detail"),
    path("letters/<slug:slug>/embed/", public.embed, name="embed"),
    path("letters/<slug:slug>/versions/", public.text_versions, name="versions"),
    # "Is your name here without your consent?" (letters/views/disputes.py)
    path("letters/<slug:slug>/dispute/", disputes.dispute, name="dispute"),
    # Signing (letters/views/signup.py)
    path("letters/<slug:slug>/sign/", signup.sign, name="sign"),
    path("letters/<slug:slug>/sign/thanks/", signup.sign_done, name="sign_done"),
    path("letters/<slug:slug>/sign/new-link/", signup.sign_new_link, name="sign_new_link"),
    path("confirm/<str:token>/", signup.confirm, name="confirm"),
    path("confirm/<str:token>/new-link/", signup.confirm_resend, name="confirm_resend"),
    path("confirm-correction/<str:token>/", signup.confirm_correction, name="confirm_correction"),
    path("manage/<str:token>/", signup.manage, name="manage"),
    # A partner's personal invitation (letters/views/invitations.py)
    path("invitations/<str:token>/", invitations.invitation, name="invitation"),
    path("invitations/<str:token>/decline/", invitations.invitation_decline, name="invitation_decline"),
    path("invitations/<str:token>/stop/", invitations.invitation_stop, name="invitation_stop"),
    # A new contact address an Organizer typed (letters/views/address.py)
    path("confirm-address/<str:token>/", address.confirm_address, name="confirm_address"),
    # Links of earlier e-mails; they lead to the signer's page.
    path("withdraw/<str:token>/", signup.withdraw, name="withdraw"),
    # Delivery outputs (letters/views/outputs.py)
    path("letters/<slug:slug>/print/", outputs.print_version, name="print"),
    path("letters/<slug:slug>/letter.pdf", outputs.pdf, name="pdf"),
    path("letters/<slug:slug>/letter.docx", outputs.word_document, name="docx"),
    path("letters/<slug:slug>/signatories.csv", outputs.signatories_csv, name="csv"),
    path("letters/<slug:slug>/signatories.json", outputs.signatories_json, name="json"),
    path("letters/<slug:slug>/deliveries/<int:number>/", outputs.delivery, name="delivery"),
    path("letters/<slug:slug>/deliveries/<int:number>/letter.pdf", outputs.delivery_pdf, name="delivery_pdf"),
    path("letters/<slug:slug>/deliveries/<int:number>/since/", outputs.delivery_since, name="delivery_since"),
]
