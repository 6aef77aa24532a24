"""The Jupyter plugin's hook implementations (entry point `modeldeck.jupyter`)."""
