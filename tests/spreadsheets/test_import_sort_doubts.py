"""The import preview flags a derived sort name the name makes doubtful, and trusts a given family name."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import strip_tags

pytestmark = pytest.mark.django_db


def preview_rows(client, letter, text: str) -> list[dict]:
    preview = client.post(
        "/admin/letters/signature/import/",
        {
            "letter": letter.pk,
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("s.csv", text.encode()),
        },
    )
    result = preview.context["result"]
    headers = [str(header) for header in result.diff_headers]
    return [dict(zip(headers, map(strip_tags, row.diff), strict=True)) for row in result.valid_rows()]


def test_the_preview_says_where_a_sort_name_is_doubtful(staff_client, letter):
    text = (
        "type,name,family_name,signed_on\n"
        "individual,Lee Yanghee,,2023-09-15\n"
        "individual,Shin Hee-seok,Shin,2023-09-15\n"
        "individual,Åsa Lindqvist,,2023-09-15\n"
    )
    rows = {row["printed as"]: row["sorts as"] for row in preview_rows(staff_client, letter, text)}
    assert rows["Lee Yanghee"].startswith("Yanghee, Lee (check: “Lee” is a common East Asian family name")
    assert rows["Shin Hee-seok"] == "Shin, Hee-seok"
    assert rows["Åsa Lindqvist"] == "Lindqvist, Åsa"
