"""storage.k8s.io: StorageClasses, VolumeAttachments, CSIDrivers, CSINodes."""
