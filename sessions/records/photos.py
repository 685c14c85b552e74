"""Clinical photographs (SPEC §12): checked and re-encoded with Pillow,
stored through Django's storage API, served only to the clinic's staff.

An upload is decoded in full before anything is stored, so a file that is
not an image, too large, or a decompression bomb is refused (400 on
`image`) and leaves no file behind. The stored image is a fresh JPEG: the
camera's EXIF (GPS position, device, the patient's name in a comment) is
not carried over; the orientation it gave is applied to the pixels first."""

import datetime as dt
import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from patients.consents import has_consent
from patients.models import ConsentKind
from sessions.models import PhotoView, Session, SessionPhoto, SessionStatus

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera; more is refused as a possible decompression bomb
THUMBNAIL_SIZE = (320, 320)
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "HEIC", "MPO"}


def _refuse(message: str):
    return ValidationError({"image": [message]})


def reencode(data: bytes) -> tuple[bytes, bytes, int, int]:
    """The image as a clean JPEG and its thumbnail, with its size; a
    ValidationError on `image` for anything that is not a sound photograph."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _refuse(_("The image is larger than %(size)s MB.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)})
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit and raises at twice it; both
            # are refusals here, before any pixel is decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise _refuse(
                        _("%(format)s images are not accepted; send a JPEG, PNG, WebP or TIFF.") % {"format": probe.format}
                    )
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(_("The image has more than %(count)s megapixels.") % {"count": MAX_PIXELS // 1_000_000})
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image).convert("RGB")
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The image is too large when decoded (a decompression bomb?).")) from None
    except Exception:  # a decoder may fail in many ways on a crafted file; each is a refusal
        raise _refuse(_("The file is not an image that can be read.")) from None
    # Pillow writes a JPEG comment (COM) back from `info` on save, and keeps
    # ICC/XMP and the like there: the pixels only (issue 30: a comment
    # "PATIENT-…-GPS-…" survived). No exif= either: the EXIF is gone too.
    upright.info = {}
    full = io.BytesIO()
    upright.save(full, "JPEG", quality=90, optimize=True)
    thumb = upright.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80)
    return full.getvalue(), small.getvalue(), upright.width, upright.height


@workflow
def add_photo(*, session: Session, view: str, data: bytes, by: User, now: dt.datetime | None = None) -> SessionPhoto:
    """Store a photograph of `view` at a booked or completed session of a
    patient who consented to photography."""
    now = now_or(now)
    require_role(by, Role.CLINICIAN, clinic_id=session.clinic_id, what="session")
    session = Session.objects.select_related("patient", "clinic").get(pk=session.pk)
    if view not in PhotoView.values:
        raise ValidationError({"view": [_("Choose one of %(choices)s.") % {"choices": ", ".join(PhotoView.values)}]})
    if session.status not in (SessionStatus.BOOKED, SessionStatus.COMPLETED):
        raise Conflict(
            _("Photographs are taken at a booked or completed visit; this session is %(status)s.")
            % {"status": str(session.get_status_display()).lower()}
        )
    if not has_consent(session.patient, ConsentKind.PHOTOGRAPHY):
        raise ValidationError(
            {"consent": [_("The patient has not consented to photography; record their photography consent first.")]}
        )
    full, small, width, height = reencode(data)
    photo = SessionPhoto(
        clinic=session.clinic, session=session, patient=session.patient, view=view,
        width=width, height=height, taken_by=by, taken_at=now,
    )
    stored = []
    try:
        photo.image.save("photo.jpg", ContentFile(full), save=False)
        stored.append(photo.image)
        photo.thumbnail.save("thumb.jpg", ContentFile(small), save=False)
        stored.append(photo.thumbnail)
        photo.save()
    except BaseException:
        # The row is rolled back with the transaction; the files must go too.
        for field in stored:
            field.storage.delete(field.name)
        raise
    return photo


def photos_of(clinic) -> QuerySet[SessionPhoto]:
    return SessionPhoto.objects.filter(clinic=clinic).select_related("session", "clinic").order_by("taken_at", "id")


def baseline_and_latest(photos) -> list[tuple[str, SessionPhoto, SessionPhoto | None]]:
    """Per view (in PhotoView's order): the first photograph and, when there
    is a later one, the latest, for the side-by-side comparison."""
    by_view: dict[str, list[SessionPhoto]] = {}
    for photo in sorted(photos, key=lambda p: (p.taken_at, p.pk)):
        by_view.setdefault(photo.view, []).append(photo)
    pairs = []
    for view, label in PhotoView.choices:
        series = by_view.get(view)
        if series:
            pairs.append((label, series[0], series[-1] if len(series) > 1 else None))
    return pairs
