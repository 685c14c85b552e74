"""Booking a session: free slots, booking and cancelling, and the patient's answers from their links."""
