"""The Slack plugin's hook implementations (entry point `modeldeck.slack`)."""
