"""A loopback simulator of the X Engagement API, as X's documentation describes it.

What it serves and how faithfully, with the choices made where X's documentation is silent:
docs/simulator.md. Comments in this package cite its sections as docs/simulator.md#<section>.
"""
