"""A loopback simulator of the X Engagement API (shared/x-engagement-api/CONTRACT.md)."""
