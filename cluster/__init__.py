"""The Django app: persistence, the simulation worker, the Kubernetes-compatible API, consumers.

Everything here talks to the engine only through `sim.cluster.Cluster`, and only inside the
simulation worker (cluster/worker.py); front ends reach the worker through cluster/services.py.
"""
