"""The staff pages' URLs."""

from django.contrib.auth import views as auth_views
from django.urls import path

from web import account as account_views
from web import audit as audit_views
from web import calendar_feed, password_reset, self_booking, two_factor
from web import home as clinic_views
from web import links as patient_links
from web import lots as lot_views
from web import questionnaire as patient_questionnaire
from web import reports as report_views
from web.clinic import views as settings_views
from web.enrolments import views as enrolment_views
from web.patients import views as patient_views
from web.protocols import authoring as authoring_views
from web.protocols import views as protocol_views
from web.sessions import decisions as decision_views
from web.sessions import outcomes as outcome_views
from web.sessions import views as session_views

urlpatterns = [
    path("", clinic_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_reset/", password_reset.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("accounts/two-factor/", two_factor.set_up, name="two_factor"),
    path("accounts/two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("accounts/two-factor/recovery-codes/", two_factor.recovery_codes, name="two_factor_recovery_codes"),
    path("accounts/sign-ins/", account_views.sign_ins, name="sign_ins"),
    path("accounts/logout-everywhere/", account_views.logout_everywhere, name="logout_everywhere"),
    path("accounts/language/", account_views.language, name="account_language"),
    path("agenda/", session_views.agenda, name="agenda"),
    path("due/", session_views.due_list, name="due"),
    path("decisions/<int:pk>/", decision_views.decision_detail, name="decision_detail"),
    path("patients/", patient_views.patient_list, name="patient_list"),
    path("patients/new/", patient_views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", patient_views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", patient_views.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/consents/", patient_views.patient_consent, name="patient_consent"),
    path("patients/<int:pk>/photos/", patient_views.patient_photo, name="patient_photo"),
    path("patients/<int:pk>/enrol/", enrolment_views.enrol, name="enrol"),
    path("enrolments/<int:pk>/withdraw/", enrolment_views.withdraw, name="enrolment_withdraw"),
    path("sessions/<int:pk>/book/", session_views.book, name="session_book"),
    path("sessions/<int:pk>/cancel-booking/", session_views.cancel, name="session_cancel"),
    path("sessions/<int:pk>/no-show/", session_views.no_show, name="session_no_show"),
    path("sessions/<int:pk>/skip/", session_views.skip, name="session_skip"),
    path("sessions/<int:pk>/complete/", session_views.complete, name="session_complete"),
    path("outcomes/<int:pk>/correct/", outcome_views.outcome_correct, name="outcome_correct"),
    path("calendar/", calendar_feed.my_calendar, name="my_calendar"),
    path("calendar/change/", calendar_feed.my_calendar_change, name="my_calendar_change"),
    path("calendar/feed/<str:token>.ics", calendar_feed.feed, name="calendar_feed"),
    path("reminders/failed/", session_views.failed_reminders, name="failed_reminders"),
    path("reminders/<int:pk>/resend/", session_views.resend, name="reminder_resend"),
    path("lots/", lot_views.lot_list, name="lot_list"),
    path("lots/new/", lot_views.lot_add, name="lot_add"),
    path("lots/<int:pk>/recall/", lot_views.lot_recall, name="lot_recall"),
    path("protocols/", protocol_views.protocol_list, name="protocol_list"),
    path("protocols/new/", authoring_views.protocol_edit, name="protocol_create"),
    path("protocols/<int:pk>/", protocol_views.protocol_detail, name="protocol_detail"),
    path("protocols/<int:pk>/edit/", authoring_views.protocol_edit, name="protocol_edit"),
    path("settings/", settings_views.clinic_settings, name="clinic_settings"),
    path("settings/closures/", settings_views.closures, name="settings_closures"),
    path("settings/wording/", settings_views.licensed_wording, name="settings_wording"),
    path("settings/absences/", settings_views.absences, name="settings_absences"),
    path("settings/rooms/", settings_views.room_add, name="settings_room_add"),
    path("settings/rooms/<int:pk>/", settings_views.room_change, name="settings_room"),
    path("settings/staff/", settings_views.staff_add, name="settings_staff_add"),
    path("settings/staff/<int:pk>/", settings_views.staff_change, name="settings_staff"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export.csv", audit_views.audit_csv, name="audit_csv"),
    # For patients, from their emails: signed links, no login (SPEC §13).
    path("p/<str:token>/", patient_links.visit, name="patient_visit"),
    path("p/<str:token>/book/", self_booking.book, name="patient_self_book"),
    path("p/<str:token>/questionnaire/", patient_questionnaire.questionnaire, name="patient_questionnaire"),
    path("p/<str:token>/book/appointment.ics", self_booking.calendar, name="patient_self_book_ics"),
    path("u/<str:token>/", patient_links.unsubscribe, name="patient_unsubscribe"),
    path("u/<str:token>/one-click/", patient_links.unsubscribe_one_click, name="patient_unsubscribe_one_click"),
    path("reports/", report_views.cohort, name="report_cohort"),
    path("reports/cohort.csv", report_views.cohort_csv, name="report_cohort_csv"),
]
