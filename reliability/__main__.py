"""`make reliability`: the bot under X and Slack faults, kill -9 and a soak; see run.py."""

from reliability.run import main

raise SystemExit(main())
