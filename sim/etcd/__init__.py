"""etcd: an MVCC, append-only keyspace (mvcc.py) served by a member (server.py)."""
