"""The institutions tree's materialised paths ("/1/4/9/"): the one place that parses them."""

from __future__ import annotations


def path_ids(path: str) -> list[int]:
    """The ids on a path, root first: "/1/4/9/" → [1, 4, 9]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def ancestor_paths(path: str) -> list[str]:
    """The paths of an institution and of every institution above it, root first:
    "/1/4/9/" → ["/1/", "/1/4/", "/1/4/9/"]."""
    ids = path_ids(path)
    return ["/" + "/".join(str(pk) for pk in ids[: depth + 1]) + "/" for depth in range(len(ids))]


def path_ids_sql(column: str) -> str:
    """``path_ids`` in SQL: the ids on the path held by ``column``, root first, as a bigint[]
    (for statements that walk up the tree without bringing the paths into Python)."""
    return f"string_to_array(trim(both '/' from {column}), '/')::bigint[]"
