"""`make reliability`: the bot under faults, kill -9 and a soak (see reliability/run.py)."""
