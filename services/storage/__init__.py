"""The storage service: consumes the hand-off stream and writes micro-batches to the database."""
