"""kube-apiserver: REST semantics over etcd, a watch cache, and watch fan-out."""
