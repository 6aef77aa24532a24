"""The workflow: request -> policy -> decision -> execution -> reconcile, one module per step.

Each step is a set of functions over a :class:`~modeldeck.workflow.context.WorkflowContext`
(the in-process :class:`modeldeck.deck.Deck` is one); each reads and writes the store only through
the repositories in :mod:`modeldeck.store`, and announces what it changed with typed events
(:mod:`modeldeck.events`).
"""
