"""The pipeline stages, each a pure function from a batch (Arrow table) to a batch."""
