"""modeldeck's Slack bot: /deck commands, approval cards, App Home and alerts."""
