"""The conformance run against a payment app: ``genstore-sandbox verify``."""
