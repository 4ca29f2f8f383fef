"""Great-circle geometry in Postgres (cube + earthdistance), and Indonesia's bounding box."""

from __future__ import annotations

from typing import Any

from django.db import models

# Indonesia with a margin for its outer islands: Rote (-11.0), Weh (6.1), Sabang (95.0),
# Merauke (141.0). A pin outside this box is a typo, usually swapped lat/long.
LAT_MIN, LAT_MAX = -11.5, 6.5
LON_MIN, LON_MAX = 94.5, 141.5


def in_indonesia(latitude: float, longitude: float) -> bool:
    return LAT_MIN <= latitude <= LAT_MAX and LON_MIN <= longitude <= LON_MAX


class LlToEarth(models.Func):
    """earthdistance's ll_to_earth(lat, lon): a point on the earth as a cube."""

    function = "ll_to_earth"
    output_field = models.Field()
    arity = 2


class EarthDistance(models.Func):
    """Great-circle distance in metres between two ll_to_earth points."""

    function = "earth_distance"
    output_field = models.FloatField()
    arity = 2


class CubeDistance(models.Func):
    """cube's `<->` (Euclidean) distance: ordering by it uses the GiST index as a
    nearest-neighbour scan, and on the earth's sphere the chord length orders points
    exactly as the great-circle distance does."""

    arg_joiner = " <-> "
    template = "(%(expressions)s)"
    output_field = models.FloatField()
    arity = 2


def earth_point(latitude: Any, longitude: Any) -> LlToEarth:
    return LlToEarth(latitude, longitude)
