"""Generators of committed files: `openapi.json` (`make openapi`) and the sample events in `events/`.

Each regenerates its files from the code and the template; a test fails when a committed copy drifts.
"""
