"""Fakes of the far side of each wire (X, Slack), clocks and request helpers shared by tests."""
