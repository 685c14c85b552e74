"""Clinical records beside a session: adverse events, photos, and the recall of a product lot."""
