"""rfctui: triage an organisation's RFC process from the terminal (SPEC §1)."""

__version__ = "0.1.0"
