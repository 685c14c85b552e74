"""What every staff page's navigation shows: the count of visits awaiting
results beside the due list."""

from sessions.selectors import awaiting_results


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "clinic", None) is None:
        return {}
    # A callable, so the count query runs only on pages that render the navigation.
    return {"awaiting_results_count": lambda: awaiting_results(user.clinic).count()}
