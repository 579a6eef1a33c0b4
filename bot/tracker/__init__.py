"""The application tracker: the reviewers' spreadsheet history brought into GitLab, and every
report about the search computed back out of GitLab.

- import: csvfile (read what spreadsheets export) -> mapping (what its words mean) -> rows (one
  checked application per row, scores and dates parsed) -> importer (one issue per new row);
- reports: records (one application from an issue's snapshot) -> table (the 17 tracker
  columns: CSV, Google Sheets via sheets) and report (dashboard.json) -> site (static HTML with
  charts drawn by charts).
"""
