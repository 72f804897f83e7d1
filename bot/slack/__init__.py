"""The Slack adapter: `/engagement` parsing, rendering and the Bolt app."""
