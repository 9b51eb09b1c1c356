"""In-memory virtual file systems, one per simulated collection.

A tree of `DirNode`s and `FileNode`s. Files carry a size, an mtime, permissions and a
content-derived checksum (MD5 like Globus' default); small files may keep their bytes.
Directory listings stay cheap for huge directories: each directory keeps its names in a
sorted list that is rebuilt only after the directory changed (Timsort on an almost
sorted list is linear), never per request.

Paths are Globus-style: absolute (`/home/share/godata/`) or home-relative (`/~/x`, `~/x`).
Errors are `VfsError`s with a `kind` the HTTP layer maps to Globus error codes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
from collections.abc import Iterator
from typing import Any, Literal

ErrorKind = Literal["not_found", "exists", "not_dir", "is_dir", "permission", "not_empty", "bad"]

# Small files keep their bytes (tests read them back); big ones keep only their checksum.
CONTENT_KEPT_UP_TO = 64 * 1024


class VfsError(Exception):
    def __init__(self, kind: ErrorKind, path: str, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.path = path
        self.message = message


def checksum_of(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def synthetic_checksum(seed: str, size: int) -> str:
    """Checksum of a synthetic file whose content is defined by (seed, size)."""
    return checksum_of(f"orbit-sim-synthetic:{seed}:{size}".encode())


class FileNode:
    __slots__ = ("name", "size", "mtime", "checksum", "permissions", "content", "listed")
    type = "file"

    def __init__(
        self,
        name: str,
        size: int,
        mtime: float,
        checksum: str,
        permissions: str = "0644",
        content: bytes | None = None,
    ) -> None:
        self.name = name
        self.size = size
        self.mtime = mtime
        self.checksum = checksum
        self.permissions = permissions
        self.content = content
        # The node's encoded ls entry after the values it was made from (see listing.py).
        self.listed: tuple[Any, ...] | None = None

    def copy_as(self, name: str, mtime: float) -> FileNode:
        """A copy with the same content (checksum and bytes are shared, not duplicated)."""
        return FileNode(name, self.size, mtime, self.checksum, self.permissions, self.content)


class DirNode:
    __slots__ = ("name", "mtime", "permissions", "children", "_sorted", "listed")
    type = "dir"
    size = 4096

    def __init__(self, name: str, mtime: float, permissions: str = "0755") -> None:
        self.name = name
        self.mtime = mtime
        self.permissions = permissions
        self.children: dict[str, Node] = {}
        self._sorted: list[str] | None = []
        self.listed: tuple[Any, ...] | None = None

    def sorted_names(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.children)
        return self._sorted

    def put(self, node: Node, mtime: float) -> None:
        names = self._sorted
        if names is not None and node.name not in self.children:
            # Appending in order keeps the list valid (transfers add names in sorted order).
            if not names or names[-1] < node.name:
                names.append(node.name)
            else:
                self._sorted = None
        self.children[node.name] = node
        self.mtime = mtime

    def pop(self, name: str, mtime: float) -> Node:
        node = self.children.pop(name)
        if self._sorted is not None:
            if self._sorted and self._sorted[-1] == name:
                self._sorted.pop()
            else:
                self._sorted = None
        self.mtime = mtime
        return node


Node = FileNode | DirNode


def _readable(node: Node) -> bool:
    return node.permissions[-3] in "4567"


def _writable(node: Node) -> bool:
    return node.permissions[-3] in "2367"


class FileSystem:
    """The file tree of one collection. `home` is what `/~/` expands to."""

    def __init__(self, home: str, now: float, user: str = "orbit", group: str = "orbit") -> None:
        self.root = DirNode("/", now)
        self.home = self._absolute(home, "/")
        self.user = user
        self.group = group
        # Shared by every view of this storage (see `view`), so usage counts once.
        self._usage = [0]
        self.makedirs(self.home, now)

    def view(self, home: str, now: float) -> FileSystem:
        """Another collection's window on the same storage (a guest collection on a mapped
        one): the same tree and usage, its own home directory."""
        other = FileSystem.__new__(FileSystem)
        other.root = self.root
        other.user, other.group = self.user, self.group
        other._usage = self._usage
        other.home = other._absolute(home, "/")
        other.makedirs(other.home, now)
        return other

    @property
    def used_bytes(self) -> int:
        return self._usage[0]

    @used_bytes.setter
    def used_bytes(self, value: int) -> None:
        self._usage[0] = value

    # -- paths -------------------------------------------------------------------------------

    def _absolute(self, path: str, home: str | None = None) -> str:
        home = self.home if home is None else home
        if not path or path in ("~", "/~"):
            return home
        if path.startswith("/~/"):
            path = home + "/" + path[3:]
        elif path.startswith("~/"):
            path = home + "/" + path[2:]
        elif not path.startswith("/"):
            path = home + "/" + path
        normalized = posixpath.normpath(path)
        return "/" if normalized.startswith("//") else normalized

    def absolute(self, path: str) -> str:
        """The normalized absolute form of a Globus path (no trailing slash except `/`)."""
        return self._absolute(path)

    @staticmethod
    def as_dir_path(path: str) -> str:
        return path if path.endswith("/") else path + "/"

    # -- lookups -----------------------------------------------------------------------------

    def lookup(self, path: str) -> Node:
        absolute = self._absolute(path)
        node: Node = self.root
        if absolute == "/":
            return node
        walked = ""
        for part in absolute[1:].split("/"):
            if not isinstance(node, DirNode):
                raise VfsError("not_dir", walked, f"'{walked}' is not a directory")
            if not _readable(node):
                raise VfsError("permission", walked or "/", f"Permission denied on '{walked}/'")
            walked += "/" + part
            child = node.children.get(part)
            if child is None:
                raise VfsError("not_found", absolute, f"'{absolute}' not found")
            node = child
        return node

    def exists(self, path: str) -> bool:
        try:
            self.lookup(path)
        except VfsError:
            return False
        return True

    def directory(self, path: str) -> DirNode:
        node = self.lookup(path)
        if not isinstance(node, DirNode):
            raise VfsError(
                "not_dir", self._absolute(path), f"'{self._absolute(path)}' is not a directory"
            )
        if not _readable(node):
            raise VfsError("permission", self._absolute(path), f"Permission denied on '{path}'")
        return node

    def _parent_for_write(self, path: str) -> tuple[DirNode, str, str]:
        absolute = self._absolute(path)
        if absolute == "/":
            raise VfsError("exists", absolute, "'/' already exists")
        parent_path, name = posixpath.split(absolute)
        try:
            parent = self.directory(parent_path)
        except VfsError as err:
            if err.kind == "not_found":
                raise VfsError("not_found", parent_path, f"'{parent_path}' not found") from None
            raise
        if not _writable(parent):
            raise VfsError("permission", absolute, f"Permission denied writing '{absolute}'")
        return parent, name, absolute

    def check_writable(self, path: str) -> None:
        """Raise unless a file or directory could be created at `path` (mkdir -p included)."""
        absolute = self._absolute(path)
        node: Node = self.root
        parent = self.root
        for part in absolute.strip("/").split("/") if absolute != "/" else []:
            if not isinstance(node, DirNode):
                raise VfsError("not_dir", absolute, f"a parent of '{absolute}' is a file")
            child = node.children.get(part)
            if child is None:
                break
            parent, node = node, child
        target = node if isinstance(node, DirNode) else parent
        if not _writable(target):
            raise VfsError("permission", absolute, f"Permission denied writing '{absolute}'")

    # -- mutations ---------------------------------------------------------------------------

    def mkdir(self, path: str, now: float, permissions: str = "0755") -> DirNode:
        parent, name, absolute = self._parent_for_write(path)
        if name in parent.children:
            raise VfsError("exists", absolute, f"'{absolute}' already exists")
        node = DirNode(name, now, permissions)
        parent.put(node, now)
        return node

    def makedirs(self, path: str, now: float) -> DirNode:
        """mkdir -p: the directory at `path`, created with any missing parents."""
        absolute = self._absolute(path)
        node: Node = self.root
        for part in absolute.strip("/").split("/") if absolute != "/" else []:
            assert isinstance(node, DirNode)
            child = node.children.get(part)
            if child is None:
                if not _writable(node):
                    raise VfsError(
                        "permission", absolute, f"Permission denied creating '{absolute}'"
                    )
                child = DirNode(part, now)
                node.put(child, now)
            elif not isinstance(child, DirNode):
                raise VfsError("not_dir", absolute, f"'{part}' in '{absolute}' is a file")
            node = child
        assert isinstance(node, DirNode)
        return node

    def write_file(
        self,
        path: str,
        now: float,
        *,
        content: bytes | None = None,
        size: int | None = None,
        checksum: str | None = None,
        permissions: str = "0644",
        mtime: float | None = None,
        parents: bool = False,
    ) -> FileNode:
        """Create or replace a file from bytes, or a synthetic one from a size.

        `parents` creates missing parent directories (mkdir -p) first.
        """
        if parents:
            self.makedirs(posixpath.dirname(self._absolute(path)), now)
        parent, name, absolute = self._parent_for_write(path)
        if content is not None:
            size = len(content)
            checksum = checksum or checksum_of(content)
            kept = content if size <= CONTENT_KEPT_UP_TO else None
        else:
            if size is None:
                raise ValueError("write_file needs content or size")
            checksum = checksum or synthetic_checksum(absolute, size)
            kept = None
        node = FileNode(name, size, now if mtime is None else mtime, checksum, permissions, kept)
        self.place(parent, node, now)
        return node

    def place(self, parent: DirNode, node: FileNode, now: float) -> None:
        """Put a file node into `parent`, replacing a file of that name (keeps usage right)."""
        old = parent.children.get(node.name)
        if isinstance(old, DirNode):
            raise VfsError("is_dir", node.name, f"'{node.name}' is a directory")
        if old is not None:
            self.used_bytes -= old.size
        parent.put(node, now)
        self.used_bytes += node.size

    def rename(self, old_path: str, new_path: str, now: float) -> None:
        old_parent, old_name, old_abs = self._parent_for_write(old_path)
        if old_name not in old_parent.children:
            raise VfsError("not_found", old_abs, f"'{old_abs}' not found")
        new_parent, new_name, new_abs = self._parent_for_write(new_path)
        if new_name in new_parent.children:
            raise VfsError("exists", new_abs, f"'{new_abs}' already exists")
        if (new_abs + "/").startswith(old_abs + "/"):
            raise VfsError("bad", new_abs, f"cannot move '{old_abs}' into itself")
        node = old_parent.pop(old_name, now)
        node.name = new_name
        new_parent.put(node, now)

    def delete(self, path: str, now: float, *, recursive: bool) -> int:
        """Remove a file or (with `recursive`) a tree; returns the number of files removed."""
        parent, name, absolute = self._parent_for_write(path)
        node = parent.children.get(name)
        if node is None:
            raise VfsError("not_found", absolute, f"'{absolute}' not found")
        if isinstance(node, DirNode) and node.children and not recursive:
            raise VfsError(
                "not_empty", absolute, f"'{absolute}' is a directory; recursive required"
            )
        parent.pop(name, now)
        removed = 0
        for _, file_node in _iter_files(node, ""):
            self.used_bytes -= file_node.size
            removed += 1
        return removed

    def glob(self, pattern: str) -> list[str]:
        """Absolute paths matching a shell pattern in its last component (sorted)."""
        absolute = self._absolute(pattern)
        parent_path, name_pattern = posixpath.split(absolute)
        try:
            parent = self.directory(parent_path)
        except VfsError:
            return []
        return [
            posixpath.join(parent_path, name)
            for name in parent.sorted_names()
            if fnmatch.fnmatchcase(name, name_pattern)
        ]

    # -- traversal ---------------------------------------------------------------------------

    def walk_files(self, path: str) -> Iterator[tuple[str, FileNode]]:
        """(relative parent dir, file) for every file under the directory `path`, sorted."""
        top = self.directory(path)
        yield from _iter_files(top, "")

    def walk_dirs(self, path: str) -> Iterator[str]:
        """Relative paths of every directory under `path` (the top itself as '')."""
        top = self.directory(path)
        stack: list[tuple[str, DirNode]] = [("", top)]
        while stack:
            rel, node = stack.pop()
            yield rel
            for name in reversed(node.sorted_names()):
                child = node.children[name]
                if isinstance(child, DirNode):
                    stack.append((f"{rel}/{name}" if rel else name, child))


def _iter_files(node: Node, rel: str) -> Iterator[tuple[str, FileNode]]:
    if isinstance(node, FileNode):
        yield rel, node
        return
    stack: list[tuple[str, DirNode]] = [(rel, node)]
    while stack:
        rel_dir, directory = stack.pop()
        subdirs: list[tuple[str, DirNode]] = []
        for name in directory.sorted_names():
            child = directory.children[name]
            if isinstance(child, FileNode):
                yield rel_dir, child
            else:
                subdirs.append((f"{rel_dir}/{name}" if rel_dir else name, child))
        stack.extend(reversed(subdirs))
