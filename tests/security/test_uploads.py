"""Issue 30: JPEG metadata segments (COM, APPn) do not survive re-encoding;
the body limit lets through the 15 MB photo the API promises."""

import io

from django.test import Client
from PIL import Image

from sessions.records.photos import reencode


def segments(jpeg: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to the start of the scan."""
    markers, at = [], 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF:
        marker = jpeg[at + 1]
        if marker == 0xDA:  # start of scan
            break
        markers.append(marker)
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return markers


def test_comment_exif_and_icc_segments_are_dropped():
    source = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "PATIENT-4711-GPS-52.52,13.40"  # ImageDescription
    Image.new("RGB", (64, 48), (180, 140, 120)).save(
        source, "JPEG", comment=b"PATIENT-4711-GPS-52.52,13.40", exif=exif.tobytes(), icc_profile=b"\0" * 128
    )
    assert b"PATIENT-4711" in source.getvalue()
    full, small, _, _ = reencode(source.getvalue())
    for jpeg in (full, small):
        assert b"PATIENT-4711" not in jpeg
        kept = segments(jpeg)
        assert 0xFE not in kept, "COM"
        assert not [m for m in kept if 0xE1 <= m <= 0xEF], "APP1-APP15"


def test_a_photo_sized_multipart_body_passes_the_limit_a_json_one_does_not(db):
    three_mb = 3 * 1024 * 1024
    client = Client()
    multipart = client.generic(
        "POST", "/api/v1/sessions/1/photos/", b"x", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(three_mb),
    )
    assert multipart.status_code != 413
    json_body = client.generic(
        "POST", "/api/v1/patients/", b"{}", content_type="application/json", CONTENT_LENGTH=str(three_mb)
    )
    assert json_body.status_code == 413
    huge = client.generic(
        "POST", "/api/v1/sessions/1/photos/", b"x", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(17 * 1024 * 1024),
    )
    assert huge.status_code == 413
