"""Directory listings the way Transfer's `operation/endpoint/{id}/ls` serves them.

Filter clauses (`name:~*.txt`, `type:file`, `size:>100`, `last_modified:2024-01-01,`)
are joined with `/` inside one `filter` parameter and must all match; several `filter`
parameters are alternatives (any may match). `orderby` takes `field [ASC|DESC]` items.
The default order (by name) is the directory's own sorted name list, so listing a huge
directory sorts nothing per request.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import encode_basestring_ascii as encode_string
from typing import Any

from orbit_sim.core.http import BadRequest
from orbit_sim.services.transfer.filesystem import DirNode, FileSystem, Node
from orbit_sim.services.transfer.tasks import parse_time

Predicate = Callable[[Node], bool]

_SIZE_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
_ORDER_FIELDS = {"name", "type", "size", "last_modified", "permissions", "user", "group"}


def ls_time(ts: float) -> str:
    """`last_modified` as ls shows it: `2023-12-18 16:52:50+00:00`."""
    return _ls_second(int(ts))


@lru_cache(maxsize=8192)
def _ls_second(second: int) -> str:
    # Files written together share their second: formatting each one once saves most of
    # the time a 10,000-entry listing would spend on dates.
    return datetime.fromtimestamp(second, UTC).isoformat(sep=" ")


def entry_document(node: Node, fs: FileSystem) -> dict[str, Any]:
    return {
        "DATA_TYPE": "file",
        "group": fs.group,
        "last_modified": ls_time(node.mtime),
        "link_group": None,
        "link_last_modified": None,
        "link_size": None,
        "link_target": None,
        "link_user": None,
        "name": node.name,
        "permissions": node.permissions,
        "size": node.size,
        "type": node.type,
        "user": fs.user,
    }


_ENTRY_TEMPLATE = (
    '{"DATA_TYPE":"file","group":%s,"last_modified":"%s","link_group":null,'
    '"link_last_modified":null,"link_size":null,"link_target":null,"link_user":null,'
    '"name":%s,"permissions":"%s","size":%d,"type":"%s","user":%s}'
)


def entries_json(nodes: list[Node], fs: FileSystem) -> str:
    """The JSON array of `entry_document`s, encoded directly (the hot path of big listings).

    Each node keeps its encoded entry with the values it was made from, so listing an
    unchanged directory again only compares and joins (no allocation per entry).
    """
    group, user = fs.group, fs.user
    parts = []
    for node in nodes:
        listed = node.listed
        if (
            listed is None
            or listed[0] != node.name
            or listed[1] != node.mtime
            or listed[2] != node.size
            or listed[3] != node.permissions
            or listed[4] != group
            or listed[5] != user
        ):
            text = _encode_entry(node, group, user)
            listed = (node.name, node.mtime, node.size, node.permissions, group, user, text)
            node.listed = listed
        parts.append(listed[6])
    return "[" + ",".join(parts) + "]"


def _encode_entry(node: Node, group: str, user: str) -> str:
    return _ENTRY_TEMPLATE % (
        encode_string(group),
        ls_time(node.mtime),
        encode_string(node.name),
        node.permissions,
        node.size,
        node.type,
        encode_string(user),
    )


def _name_clause(value: str) -> Predicate:
    for op in ("!~", "~", "!=", "="):
        if value.startswith(op):
            patterns = value[len(op) :].split(",")
            break
    else:
        op, patterns = "=", value.split(",")
    if op in ("~", "!~"):
        matched: Predicate = lambda node: any(  # noqa: E731
            fnmatch.fnmatchcase(node.name, p) for p in patterns
        )
    else:
        names = set(patterns)
        matched = lambda node: node.name in names  # noqa: E731
    return matched if not op.startswith("!") else (lambda node: not matched(node))


def _type_clause(value: str) -> Predicate:
    types = set(value.split(","))
    unknown = types - {"file", "dir", "link"}
    if unknown:
        raise BadRequest(f"Invalid type filter value: {sorted(unknown)[0]!r}")
    return lambda node: node.type in types


def _size_clause(value: str) -> Predicate:
    op = next((op for op in _SIZE_OPS if value.startswith(op)), "")
    compare = _SIZE_OPS.get(op, operator.eq)
    try:
        limit = int(value[len(op) :])
    except ValueError:
        raise BadRequest(f"Invalid size filter value: {value!r}") from None
    return lambda node: compare(node.size, limit)


def _time_clause(value: str) -> Predicate:
    start_text, _, end_text = value.partition(",")
    try:
        start = parse_time(start_text) if start_text else None
        end = parse_time(end_text) if end_text else None
    except ValueError:
        raise BadRequest(f"Invalid last_modified filter value: {value!r}") from None
    return lambda node: (start is None or node.mtime >= start) and (end is None or node.mtime < end)


_CLAUSES: dict[str, Callable[[str], Predicate]] = {
    "name": _name_clause,
    "type": _type_clause,
    "size": _size_clause,
    "last_modified": _time_clause,
}


def parse_filter(text: str) -> Predicate:
    """One `filter` parameter: `/`-separated clauses that must all match."""
    predicates: list[Predicate] = []
    for clause in text.split("/"):
        if not clause:
            continue
        key, sep, value = clause.partition(":")
        if not sep or key not in _CLAUSES:
            raise BadRequest(f"Invalid filter clause: {clause!r}")
        predicates.append(_CLAUSES[key](value))
    return lambda node: all(p(node) for p in predicates)


def parse_orderby(
    text: str | None, fields: Collection[str] = _ORDER_FIELDS
) -> list[tuple[str, bool]]:
    """`name DESC,size` -> [("name", True), ("size", False)] (True = descending)."""
    order: list[tuple[str, bool]] = []
    for item in (text or "").split(","):
        parts = item.split()
        if not parts:
            continue
        field_name = parts[0]
        direction = parts[1].upper() if len(parts) > 1 else "ASC"
        if field_name not in fields or direction not in ("ASC", "DESC") or len(parts) > 2:
            raise BadRequest(f"Invalid orderby value: {item.strip()!r}")
        order.append((field_name, direction == "DESC"))
    return order


def _sort_key(field_name: str) -> Callable[[Node], Any]:
    if field_name == "last_modified":
        return lambda node: node.mtime
    if field_name in ("user", "group"):
        return lambda node: 0  # one owner per collection
    return operator.attrgetter(field_name)


@dataclass
class ListRequest:
    filters: list[str]
    orderby: str | None
    show_hidden: bool
    limit: int
    offset: int


def list_directory(directory: DirNode, request: ListRequest) -> tuple[list[Node], int]:
    """The page of entries to return and the total number that matched."""
    names = directory.sorted_names()
    children = directory.children
    predicates = [parse_filter(text) for text in request.filters if text]
    order = parse_orderby(request.orderby)
    if not request.show_hidden:
        names = [name for name in names if not name.startswith(".")]
    nodes = [children[name] for name in names]
    if predicates:
        nodes = [node for node in nodes if any(p(node) for p in predicates)]
    if order and order != [("name", False)]:
        # Stable sorts from the last key to the first give a multi-key order.
        for field_name, descending in reversed(order):
            nodes.sort(key=_sort_key(field_name), reverse=descending)
    total = len(nodes)
    return nodes[request.offset : request.offset + request.limit], total
