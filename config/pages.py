"""The staff pages' URLs."""

from django.contrib.auth import views as auth_views
from django.urls import path

from clinics import views as clinic_views
from protocols import views as protocol_views
from reports import views as report_views
from sessions import lot_views, outcome_views, patient_views
from sessions import views as session_views
from sessions.enrolments import views as enrolment_views

urlpatterns = [
    path("", clinic_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("agenda/", session_views.agenda, name="agenda"),
    path("due/", session_views.due_list, name="due"),
    path("patients/", patient_views.patient_list, name="patient_list"),
    path("patients/new/", patient_views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", patient_views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", patient_views.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/enrol/", enrolment_views.enrol, name="enrol"),
    path("sessions/<int:pk>/book/", session_views.book, name="session_book"),
    path("sessions/<int:pk>/cancel-booking/", session_views.cancel, name="session_cancel"),
    path("sessions/<int:pk>/no-show/", session_views.no_show, name="session_no_show"),
    path("sessions/<int:pk>/skip/", session_views.skip, name="session_skip"),
    path("sessions/<int:pk>/complete/", session_views.complete, name="session_complete"),
    path("outcomes/<int:pk>/correct/", outcome_views.outcome_correct, name="outcome_correct"),
    path("reminders/failed/", session_views.failed_reminders, name="failed_reminders"),
    path("reminders/<int:pk>/resend/", session_views.resend, name="reminder_resend"),
    path("lots/", lot_views.lot_list, name="lot_list"),
    path("lots/<int:pk>/recall/", lot_views.lot_recall, name="lot_recall"),
    path("protocols/", protocol_views.protocol_list, name="protocol_list"),
    path("protocols/<int:pk>/", protocol_views.protocol_detail, name="protocol_detail"),
    path("reports/", report_views.cohort, name="report_cohort"),
    path("reports/cohort.csv", report_views.cohort_csv, name="report_cohort_csv"),
]
