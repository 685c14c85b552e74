"""The protocol list, detail and editor pages."""
