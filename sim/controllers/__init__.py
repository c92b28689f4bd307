"""kube-controller-manager and its controllers (pkg/controller/...), one module each."""
