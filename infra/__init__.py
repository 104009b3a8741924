"""What runs outside AWS, never shipped with a function: nothing under `functions/` imports it.

- `template.py`: template.yaml read as data (table, routes, functions, parameters), for both kinds below.
- `local/`: everything that emulates AWS for `make run` (moto's server, API Gateway, the stream's
  event source mapping, Cognito and SigV4 checks, the moto lock).
- `generate/`: generators of committed files (`openapi.json`, `events/`).
"""
