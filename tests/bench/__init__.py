"""`make bench`: cold start, warm overhead, DynamoDB requests per command, throughput, notification
latency and cost, each figure a median over repeated runs and, where a floor exists, a ratio against
it measured in the same run. Not part of `make test`: nothing here is named test_*.py, and no timing
is ever asserted. docs/performance.md holds the last table and how to read it.
"""
