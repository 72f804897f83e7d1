"""engagement-bot: X Post engagement metrics in Slack."""
