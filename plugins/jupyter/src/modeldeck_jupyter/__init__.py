"""modeldeck's notebook panel."""
