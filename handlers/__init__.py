"""One module per GitLab event kind; each registers itself on `handlers.router`."""
