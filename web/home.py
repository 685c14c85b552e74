from django.shortcuts import redirect
from django.urls import reverse


def home(request):
    """Anonymous visitors go to the login page, staff to today's agenda."""
    if not request.user.is_authenticated:
        return redirect(reverse("login"))
    return redirect(reverse("agenda"))
