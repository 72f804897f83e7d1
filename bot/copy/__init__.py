"""Every sentence a person reads, as small functions of the values they mention (and constants).

One module per surface; each sentence is defined once and imported where it is used:

    words         metric names, periods, counts, dates; why a number is missing (shared by all)
    reports       `totals`, `hourly`, `daily`, `top`: titles, rows, notes, fallbacks
    channel       what a channel tracks and covers, connected accounts, what an answer left out
    alerts        alert rules as worded everywhere, and the alert message
    digest        the daily digest, a paused channel, why a digest run did not post
    usage         `/engagement`'s subcommand table: help, the parser's usage lines, the manifest
    usage_report  `/engagement usage`: the month's X API calls and owner accounts
    commands      help's headings, and the confirmations of settings changes
    parse         why `/engagement` did not understand what was typed (the parser's errors)
    errors        failures a person reads: on our side, X refusing or slow, Slack busy, refused
    connect       connecting an X account: the Slack notices and the browser's pages
    install       installing the app in a Slack workspace: the browser's pages
    operator      whoever runs the bot: database and key, start-up settings, HTTP refusals,
                  `accounts`, `rotate-key`, the daily tally
    terminal      the command line (`query` and the others' usage errors) and the console
    demo          `engagement-bot demo`'s narration

Texts are Slack mrkdwn unless a name or docstring says plain; values from outside (handles,
metric names typed by people) arrive already escaped. Lines stay short: they are read on phones.
tests/test_copy_home.py fails on a sentence written anywhere else in bot/ (it lists what may
stay: log lines, docstrings, SQL, argparse help, programmer errors, and the layers below this
one: bot/engagement, bot/config.py, bot/errors.py).
"""
