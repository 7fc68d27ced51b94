"""The platform side: what Genstore itself answers (seeds 000, 002, 003)."""
