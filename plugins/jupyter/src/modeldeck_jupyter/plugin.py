"""The Jupyter plugin's hook implementations (entry point `modeldeck.jupyter`).

It implements no hooks yet: the panel is used from notebooks, not run by the server. Keeping this
module free of ipywidgets (and of anything Slack) keeps every modeldeck process that loads the
entry point light.
"""
