"""The node's own disk, as hostPath and local volumes see it (pkg/volume/hostpath): one store of
absolute paths per node, so `/mnt` and `/mnt/data` mounted by different pods are the same
directory tree - a file written under one is there under the other - and another node has
other files under the same paths.  A mount is a view of the store below its path.

The `type` check (checkType in pkg/volume/hostpath/host_path.go): Directory and File must
exist already, DirectoryOrCreate and FileOrCreate are made when missing; "" checks nothing.
"""
from __future__ import annotations

import posixpath
from collections.abc import MutableMapping

from sim.runtime.process import Volume


class _Below(MutableMapping):
    """The disk's files below `root`, by path relative to it (what a mount of `root` holds)."""

    def __init__(self, disk: dict[str, str], root: str):
        self.disk, self.prefix = disk, root.rstrip("/") + "/"

    def __getitem__(self, rel: str) -> str:
        return self.disk[self.prefix + rel]

    def __setitem__(self, rel: str, content: str) -> None:
        self.disk[self.prefix + rel] = content

    def __delitem__(self, rel: str) -> None:
        del self.disk[self.prefix + rel]

    def __iter__(self):
        n = len(self.prefix)
        return iter([p[n:] for p in self.disk if p.startswith(self.prefix)])

    def __len__(self) -> int:
        return sum(1 for p in self.disk if p.startswith(self.prefix))


class NodeDisk:
    def __init__(self) -> None:
        self.files: dict[str, str] = {}   # absolute path -> content
        self.dirs: set[str] = {"/"}       # directories made empty (DirectoryOrCreate)

    def is_dir(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        return path in self.dirs or any(p.startswith(prefix) for p in self.files)

    def mount(self, path: str, type_: str | None) -> tuple[Volume | None, str | None]:
        """The volume of `path`, or the type check's error (MountVolume.SetUp's words)."""
        path = posixpath.normpath(path or "/")
        if type_ == "Directory" and not self.is_dir(path):
            return None, f"hostPath type check failed: {path} is not a directory"
        if type_ == "File" and path not in self.files:
            return None, f"hostPath type check failed: {path} is not a file"
        if type_ == "DirectoryOrCreate":
            self.dirs.add(path)
        if type_ == "FileOrCreate":
            self.files.setdefault(path, "")
        volume = Volume()
        volume.files = _Below(self.files, path)
        return volume, None
