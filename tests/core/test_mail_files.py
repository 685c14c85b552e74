"""Without an SMTP server, each email is one `.eml` file (SPEC §16) that a
mail program opens: named by time, kind and id, written whole."""

import email
import email.policy

from django.core import mail

from core.mail_files import EmlFileBackend


def test_each_message_is_one_eml_file_named_by_time_kind_and_id(tmp_path):
    backend = EmlFileBackend(file_path=str(tmp_path))
    reminder = mail.EmailMultiAlternatives(
        "Your visit", "Plain text", "clinic@example.org", ["Jürgen Weiß <j@example.org>"],
        headers={"X-Regimen-Kind": "booked", "X-Regimen-Reminder": "42"},
    )
    reminder.attach_alternative("<p>HTML</p>", "text/html")
    other = mail.EmailMessage("Password reset", "Link", "clinic@example.org", ["staff@example.org"])
    assert backend.send_messages([reminder, other]) == 2
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2
    [booked] = [f for f in files if f.endswith("-booked-42.eml")]
    [plain] = [f for f in files if "-email-" in f]
    assert booked[:8].isdigit() and booked[8] == "T" and plain.endswith(".eml")
    parsed = email.message_from_bytes((tmp_path / booked).read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Your visit" and str(parsed["To"]) == "Jürgen Weiß <j@example.org>"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>HTML</p>"


def test_make_runs_settings_write_eml_files(settings, tmp_path):
    settings.EMAIL_BACKEND = "core.mail_files.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "emails")
    mail.send_mail("Hello", "Body", "clinic@example.org", ["p@example.org"])
    assert [p.suffix for p in (tmp_path / "emails").iterdir()] == [".eml"]
