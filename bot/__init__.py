"""engagement-bot: X Post engagement metrics in Slack."""


def version() -> str:
    """The installed release (pyproject.toml's version is the one definition)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("engagement-bot")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"
