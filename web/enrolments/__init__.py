"""The enrol and withdraw pages."""
