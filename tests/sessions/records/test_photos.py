"""Photographs (SPEC §12): only with photography consent; checked and
re-encoded (EXIF gone, a thumbnail made); stored through Django's storage
API — files on disk, or an S3-compatible bucket (moto's server, in process);
served only to the clinic's staff, never cached; no file is left behind
when a request fails."""

import io
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from core.env import media_storage
from patients.consents import record_consent
from sessions.models import SessionPhoto


def jpeg(size=(640, 480), exif_text="Patient Hanna Weber, GPS 52.52N") -> bytes:
    image = Image.new("RGB", size, (200, 150, 120))
    exif = Image.Exif()
    exif[0x010E] = exif_text  # ImageDescription
    exif[0x0110] = "PhoneCam 12"  # Model
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(client, session, data: bytes, view="vertex", name="scalp.jpg"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(f"/api/v1/sessions/{session.pk}/photos/", {"image": file, "view": view}, format="multipart")


@pytest.fixture
def disk(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": media_storage("", media_root=str(tmp_path))}
    return tmp_path


def files_in(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def consented(patient, receptionist, frozen):
    record_consent(patient=patient, kind="photography", given=True, by=receptionist)
    return patient


def test_a_photo_is_stored_without_exif_with_a_thumbnail(client_as, clinician, booked_injection, consented, disk):
    answer = upload(client_as(clinician), booked_injection, jpeg())
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert (data["view"], data["width"], data["height"], data["patient"]) == ("vertex", 640, 480, consented.pk)
    assert len(files_in(disk)) == 2
    image = client_as(clinician).get(data["image_url"])
    assert image.status_code == 200
    assert image["Cache-Control"].startswith("no-store")
    body = b"".join(image.streaming_content)
    stored = Image.open(io.BytesIO(body))
    assert stored.format == "JPEG" and stored.size == (640, 480)
    assert dict(stored.getexif()) == {}
    assert b"Hanna" not in body and b"PhoneCam" not in body
    thumb = Image.open(io.BytesIO(b"".join(client_as(clinician).get(data["thumbnail_url"]).streaming_content)))
    assert max(thumb.size) == 320


def test_no_photo_without_photography_consent(client_as, clinician, booked_injection, disk):
    answer = upload(client_as(clinician), booked_injection, jpeg())
    assert answer.status_code == 400
    assert "consent" in answer.json()
    assert files_in(disk) == [] and SessionPhoto.objects.count() == 0


def test_withdrawn_consent_stops_photos(client_as, clinician, receptionist, booked_injection, consented, disk):
    record_consent(patient=consented, kind="photography", given=False, by=receptionist)
    assert upload(client_as(clinician), booked_injection, jpeg()).status_code == 400


def bomb() -> bytes:
    # A small PNG that claims 20000 × 20000 pixels: 400 megapixels once decoded.
    image = Image.new("1", (20000, 20000))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"%PDF-1.4 this is not an image", "not an image"),
        (jpeg()[:300], "a truncated JPEG"),
        (bomb(), "a decompression bomb"),
        (b"\xff\xd8" + b"0" * (16 * 1024 * 1024), "more than 15 MB"),
    ],
    ids=["not-an-image", "truncated", "bomb", "too-large"],
)
def test_bad_images_are_refused_and_leave_no_file(client_as, clinician, booked_injection, consented, disk, data, why):
    answer = upload(client_as(clinician), booked_injection, data)
    if answer.status_code == 413:  # the request-body limit (SPEC §14) answers before the view, in JSON
        assert why == "more than 15 MB" and "detail" in answer.json()
    else:
        assert answer.status_code == 400, why
        assert "image" in answer.json(), (why, answer.json())
    assert files_in(disk) == [] and SessionPhoto.objects.count() == 0


def test_a_bad_view_is_refused(client_as, clinician, booked_injection, consented, disk):
    answer = upload(client_as(clinician), booked_injection, jpeg(), view="ceiling")
    assert answer.status_code == 400 and "view" in answer.json()
    assert files_in(disk) == []


def test_photos_are_served_only_to_the_clinics_staff(client_as, clinician, receptionist, outsider, booked_injection, consented, disk):
    photo = upload(client_as(clinician), booked_injection, jpeg()).json()
    assert client_as(receptionist).get(photo["image_url"]).status_code == 200
    assert client_as(outsider).get(photo["image_url"]).status_code == 404
    assert client_as(None).get(photo["image_url"]).status_code == 401
    assert upload(client_as(receptionist), booked_injection, jpeg()).status_code == 403


@pytest.fixture
def s3(settings):
    """An S3-compatible server in this process (moto), a bucket, and Django's
    default storage pointed at it through MEDIA_STORAGE_URL's parser."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    # moto keeps its buckets per process, not per server: a fresh bucket per test.
    client.bucket = f"regimen-photos-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=client.bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage(
            f"s3://{client.bucket}?endpoint_url={endpoint}&region_name=us-east-1&access_key=test&secret_key=test",
            media_root="unused",
        ),
    }
    yield client
    server.stop()


def bucket_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=client.bucket).get("Contents", []))


def test_photos_go_to_an_s3_bucket_when_configured(client_as, clinician, booked_injection, consented, s3):
    answer = upload(client_as(clinician), booked_injection, jpeg())
    assert answer.status_code == 201, answer.content
    photo = SessionPhoto.objects.get()
    assert bucket_keys(s3) == sorted([photo.image.name, photo.thumbnail.name])
    served = client_as(clinician).get(answer.json()["image_url"])
    assert served.status_code == 200 and served["Cache-Control"].startswith("no-store")
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (640, 480)


def test_a_refused_upload_leaves_nothing_in_the_bucket(client_as, clinician, booked_injection, consented, s3):
    assert upload(client_as(clinician), booked_injection, b"not an image").status_code == 400
    assert bucket_keys(s3) == []
