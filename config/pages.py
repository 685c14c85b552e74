"""The staff pages' URLs."""

urlpatterns: list = []
