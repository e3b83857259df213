from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.signin import totp_secret


class Command(BaseCommand):
    help = (
        "Give a staff user a new authenticator-app key (TOTP) and print it, replacing any they had: "
        "for the first organizer, or someone who lost their phone, when STAFF_REQUIRE_2FA=true."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user named {username!r}.")
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
        self.stdout.write(f"Key for {username} (type it into the authenticator app): {totp_secret(device)}")
        self.stdout.write(f"Or open on the phone: {device.config_url}")
