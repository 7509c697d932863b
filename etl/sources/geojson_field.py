"""A faster frictionless `geojson` field: well-formed geometries accepted at once, everything else checked by
frictionless as before.

frictionless checks each GeoJSON cell against its GeoJSON profile with `jsonschema`: a `oneOf` over 4 kinds
of objects, then over 7 geometry types, the coordinates validated once per branch tried: 4 ms for a polygon
of 30 points, most of the time a CNIG inventory takes to validate.

The fast path only ever *accepts*, and only what the profile accepts: an object whose `type` is one of the 7
geometry types, with no `crs` or `bbox`, whose `coordinates` have that type's structure (a position is
exactly two JSON numbers, a line at least 2 positions, a ring at least 4). The profile's branches are told
apart by their one-value `type` enums, so such an object matches exactly one branch. Any other cell (a
Feature, a `bbox`, a bad ring, text that is not JSON) goes to frictionless' own reader: same accepted
cells, same errors.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from frictionless import Plugin, system
from frictionless.fields import GeojsonField

PLUGIN = "ti-geojson-rapide"
_NUMBER = (int, float)   # the types json.loads gives JSON numbers (bool is neither: it is no number)


def _position(p: Any) -> bool:
    return type(p) is list and len(p) == 2 and type(p[0]) in _NUMBER and type(p[1]) in _NUMBER


def _positions(a: Any, least: int) -> bool:
    return type(a) is list and len(a) >= least and all(map(_position, a))


def _rings(c: Any) -> bool:
    return type(c) is list and all(_positions(r, 4) for r in c)


_COORDINATES = {
    "Point": _position,
    "MultiPoint": lambda c: _positions(c, 0),
    "LineString": lambda c: _positions(c, 2),
    "MultiLineString": lambda c: type(c) is list and all(_positions(line, 2) for line in c),
    "Polygon": _rings,
    "MultiPolygon": lambda c: type(c) is list and all(map(_rings, c)),
}


def well_formed_geometry(value: Any) -> bool:
    """True only for a geometry the GeoJSON profile accepts (False: not decided here)."""
    if type(value) is not dict or "crs" in value or "bbox" in value:
        return False
    check = _COORDINATES.get(value.get("type")) if type(value.get("type")) is str else None
    return check is not None and "coordinates" in value and check(value["coordinates"])


class FastGeojsonField(GeojsonField):
    def create_value_reader(self):
        full = super().create_value_reader()
        if self.format != "default":
            return full

        def value_reader(cell: Any):
            if isinstance(cell, str):
                try:
                    value = json.loads(cell)
                except Exception:
                    return None
                if well_formed_geometry(value):
                    return value
            return full(cell)

        return value_reader


class _Plugin(Plugin):
    def select_field_class(self, type=None):
        return FastGeojsonField if type == "geojson" else None


@lru_cache(maxsize=1)
def register() -> None:
    """Make frictionless build `geojson` fields as FastGeojsonField (once per process)."""
    system.register(PLUGIN, _Plugin())
