"""End-to-end tests: they reuse the Slack suite's fake Slack and wire helpers (tests.slack)."""
