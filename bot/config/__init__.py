"""Settings: the model, the files it is read from, `config check`, and the project's own
`.vorhoelle.yml`."""
