"""Answers from the mailbox, matched to their application and recorded on its issue.

`source` (what a mailbox gives), `imap` and `gmail` (the transports), `mail` (one mail read),
`match` (which application it answers), `run` (one pass, handing matches to the converge),
`loop` (the served bot's timer).
"""
