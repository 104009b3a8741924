"""`make capacity`: what saturates first, at what load, and what it costs (README, "Capacity: what
saturates first").

The model reads the template (stack.py, through infra/template.py), the command table (commands.toml:
what each command writes; writes.py decides what that does to each index), a traffic profile
(profiles.toml; load.py makes it rates), the items as measured (measured.json, written by
tests/bench/writes.py), the functions' durations as measured (docs/lambda-durations.json, written by
`make bench`), and AWS's limits and prices (aws.toml). model.py and usage.py do the arithmetic,
report.py prints it.
"""
