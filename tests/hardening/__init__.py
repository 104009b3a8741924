"""The hardening suite: attacks on the product, with figures printed at the end of `make test`.

Two layers live here, on purpose together: each file says its layer in its first line.

- Over HTTP against the local stack (its own process): `test_auth_matrix`, `test_fuzz`,
  `test_wire_inputs`, `test_load`. They test what a caller on the wire can do.
- In process, the real functions on moto: `test_faults`, `test_notifier_faults`, `test_stateful`.
  Faults are injected at the functions' own AWS clients and hypothesis drives the functions
  directly, which a separate process would hide.

They stay in one folder because they are one suite: one report (`report.py`, `figures.py`) adds up
their requests, faults and violations, and `make soak` runs all of them at ten times the size.
`harness.py` holds the in-process helpers, `wire.py` the HTTP ones.
"""
