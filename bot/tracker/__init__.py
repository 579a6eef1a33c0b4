"""The application tracker: the reviewers' spreadsheet history brought into GitLab, and every
report about the search computed back out of GitLab.

- import: csvfile (read what spreadsheets export) -> mapping (what its words mean) -> rows (one
  checked application per row; scores, dates) -> importer (one issue per new row);
- reports: export (read the job-match issues) -> records (one application per issue, with
  description for staged issues' facts) -> table (the 17 tracker columns: CSV, and Google
  Sheets through sheets) and report (dashboard.json) -> site (static HTML; charts draws).

`job.Job` is what a posting is, wherever its facts come from.
"""
