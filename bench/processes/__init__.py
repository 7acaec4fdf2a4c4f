"""One configuration per child process, and the worker processes of a multi-worker run.

`child` starts a child and reads its record, `child_pipes` the pipes between them, `workers`
starts and watches the worker processes of `--workers` (in the network namespace `loopback` holds
for them), `peers` (inside a worker) notices a peer that is lost. Imports `bench.measuring` (in
the child) and the layers below it.
"""
