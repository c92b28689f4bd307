"""The kubectl console of the cluster page: a command line split without a shell
(commandline.py), the kubeconfig and HOME it runs with (kubeconfig.py), the bounded process
(process.py) and the WebSocket that carries it (consumer.py).  docs/console.md says what is
allowed, what is refused and why, and the bounds."""
