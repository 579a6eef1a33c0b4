"""Matches in: the match model, staging them as issues, and reading staged matches back."""
