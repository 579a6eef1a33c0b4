"""Follow-ups: reminders the bot sends on its own, read from GitLab alone.

`due` is pure (a snapshot and a time in, the reminders owed out); `sweep` finds the issues
through GitLab's own filters, writes each reminder as a note with a `reminder` marker (so a
restart never repeats it) and hands the issue to the notifier, which delivers it like any event.
"""

REMINDER = "reminder"   # the marker kind of a reminder, and the notify event it raises
