"""The node agents: kubelet and its container runtime (containerd, spoken to over CRI)."""
