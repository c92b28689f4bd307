"""Pilothouse's simulation engine: plain Python, no Django, no Channels.

The kernel (`sim.kernel`) owns virtual time, randomness and the network; every Kubernetes
component is a state machine (`sim.component.Component`) that the kernel feeds messages and
timers.  `sim.cluster.Cluster` assembles a whole cluster and is the one facade the Django side
uses.
"""
