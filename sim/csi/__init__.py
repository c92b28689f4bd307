"""A simulated CSI driver, pilothouse.csi.k8s.io: its storage backend (backend.py), its
controller plugin's sidecars on the control plane (controller.py: external-provisioner in
provisioner.py, external-attacher in attacher.py) and the default StorageClass it installs."""
