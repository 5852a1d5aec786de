"""Parts of the chaos soak (bench/soak.py) and the processing fuzz (bench/fuzz_webhooks.py).

A package, so `make bench` (which runs every bench/*.py) does not run them as scripts.
"""
