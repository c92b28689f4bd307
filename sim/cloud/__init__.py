"""The simulated cloud a cluster runs in (its load balancers and external addresses), and the
cloud-controller-manager that drives it from the control plane.

- `loadbalancer.py`: one cloud load balancer: listeners, backends, health, the pick of a
  backend for a packet.
- `provider.py`: the cloud (`cloud-api@cloud`): its API (k8s.io/cloud-provider's LoadBalancer
  interface, answered over the network) and the load balancers' health checks to the nodes.
- `controllermanager.py`: cloud-controller-manager, leader elected on the control plane.
- `servicecontroller.py`: its service controller (k8s.io/cloud-provider/controllers/service).

See docs/networking/loadbalancer.md.
"""
