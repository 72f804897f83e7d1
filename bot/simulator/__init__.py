"""A loopback simulator of the X Engagement API, as X's documentation describes it."""
