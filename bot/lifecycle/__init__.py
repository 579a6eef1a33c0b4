"""The application's life after it was sent: reply, interview rounds, offer, outcome.

The states and rights live in the workflow settings like the review's; this package holds what
only the lifecycle needs: reading typed times (`when`), the timeline read back from GitLab's
markers (`timeline`), and the calendar entry of an interview round (`ics`).
"""

# The states of an application's life after it was sent (the review's states come before).
AFTER_SENT = frozenset({"no-reply", "interview", "offer", "hired", "declined", "turned-down", "withdrawn"})
