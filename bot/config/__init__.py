"""Settings: the model (settings.py, built from sections.py and notify_sections.py), the files
and variables it is read from (files.py, sources.py), what a bad value is told (explain.py),
secrets shown masked (masking.py), `config check` (check.py), the project's own `.vorhoelle.yml`
(project_file.py) and what it may change (trust.py)."""
