"""`vorhoelle demo`: the runner (processes, output) and the story it plays."""
