"""
The site takes one kind of file: a staff import, at most IMPORT_MAX_BYTES. An
uploaded file is kept only in a request of staff small enough to hold one.
Django otherwise keeps any file in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE and
then writes it to a temporary file, however large, before any form can refuse
it (DATA_UPLOAD_MAX_MEMORY_SIZE does not count files) — for a visitor posting
to the public form too.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

from staff.access import is_staff

# What an upload form's other fields and the multipart headers take besides the file.
FORM_ALLOWANCE = 64 * 1024


def refused_upload(request: HttpRequest) -> int | None:
    """The size of the request whose files were refused unread, if they were."""
    return getattr(request, "_refused_upload_bytes", None)


class RefuseOversizedFiles(FileUploadHandler):
    """
    First of FILE_UPLOAD_HANDLERS: in a request of anyone but staff, or one
    larger than IMPORT_MAX_BYTES (plus FORM_ALLOWANCE), every file is read and
    thrown away, chunk by chunk, so neither memory nor the disk holds it; the
    other fields are parsed as usual, and the import form says why the file is
    missing (`refused_upload`).
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        staff = hasattr(self.request, "user") and is_staff(self.request)
        too_large = content_length > settings.IMPORT_MAX_BYTES + FORM_ALLOWANCE
        self.refused = too_large or not staff
        if too_large and self.request is not None:
            self.request._refused_upload_bytes = content_length

    def new_file(self, *args, **kwargs) -> None:
        if self.refused:
            raise SkipFile  # the parser reads the rest of this file and drops it

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
