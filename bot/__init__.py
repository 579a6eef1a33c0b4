"""Vorhölle: a GitLab bot that stages job matches as issues and follows their review."""

__version__ = "0.1.0"
