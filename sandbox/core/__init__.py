"""The domain core: plain Python, no Flask, no SQL."""
