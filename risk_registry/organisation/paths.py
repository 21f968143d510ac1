"""The institutions tree's materialised paths ("/1/4/9/"): the one place that parses them."""

from __future__ import annotations

from django.db.models import CharField, Func, Value
from django.db.models.functions import Substr


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


def child_id_sql(field: str, parent_path: str) -> Func:
    """For rows whose institution path (``field``) lies below ``parent_path``: the id, as text, of
    the parent's child that holds them, the first id after the parent's path ("/1/4/" and
    "/1/4/9/12/" → "9"), so that the rows can be summed per child in SQL."""
    rest = Substr(field, len(parent_path) + 1)
    return Func(rest, Value("/"), Value(1), function="split_part", output_field=CharField())
