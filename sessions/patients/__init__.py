"""What a change to a patient means for their sessions, and the sessions read per patient."""
