"""Jobs the scheduler (and `engagement-bot digest`) run: they take `now` and post through the
`post` callable they are given, never via slack_bolt."""
