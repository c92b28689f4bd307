"""kube-scheduler: a scheduling framework with upstream's plugins (one module each)."""
