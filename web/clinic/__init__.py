"""The clinic settings pages: the clinic, closures, rooms and staff."""
