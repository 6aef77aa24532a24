"""Scheduled capacity: the schedule models (`spec`) and their Beijing calendar (`calendar`).

Pure: no store, no provider. The workflow that requests, activates and runs schedules is
`workflow.schedule_requests`, `workflow.schedule_activation` and `workflow.schedules`.
"""
