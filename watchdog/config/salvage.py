"""What is left of a config that failed validation, so that validate still checks the rest.

When one section is wrong (``daemon.workers: 0``), the cross-section checks (names that
must be defined, each warehouse's and sink's settings, contracts) must still run over the
others, or ``validate`` would hide problems until the first one is fixed. Each broken entry
is replaced by a stand-in that keeps its name (so nothing that refers to it is reported as
undefined) and is listed as invalid (so no check looks inside it); a broken plain section
falls back to its default. A broken ``warehouses`` or ``ownership`` section as a whole
cannot be stood in for: then nothing is salvaged.
"""

from __future__ import annotations

import copy
from typing import Any

import pydantic

from watchdog.config.loader import Loc
from watchdog.config.models import Config

#: Sections of named entries, and the length of an entry's path (``warehouses.<name>``,
#: ``ownership.teams.<name>``).
_ENTRIES = {"warehouses": 2, "sinks": 2, "ownership": 3}


def salvage(raw: dict[str, Any], exc: pydantic.ValidationError) -> tuple[Config | None,
                                                                          set[Loc]]:
    """A Config built from ``raw`` without the parts ``exc`` found invalid, and those parts'
    paths; None when the broken part cannot be left out."""
    data = copy.deepcopy({**raw, "monitors": []})
    invalid: set[Loc] = set()
    for err in exc.errors(include_input=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        if not loc:
            return None, invalid
        depth = _ENTRIES.get(str(loc[0]), 1)
        if len(loc) < depth and err["type"] != "extra_forbidden":
            return None, invalid  # e.g. `warehouses:` is not a mapping
        entry = loc[:depth]
        invalid.add(entry)
        try:
            _stand_in(data, entry, extra=len(loc) < depth)
        except (KeyError, TypeError):
            return None, invalid
    try:
        return Config.model_validate(data), invalid
    except pydantic.ValidationError:
        return None, invalid


def _stand_in(data: dict[str, Any], entry: Loc, *, extra: bool) -> None:
    """Replace the entry at ``entry`` by a valid stand-in (or drop it)."""
    *parents, name = entry
    holder: Any = data
    for part in parents:
        holder = holder[part]
    if extra or len(entry) == 1:
        holder.pop(name, None)  # an unknown key, or a plain section: its default applies
    elif entry[0] == "warehouses":
        holder[name] = {"type": "", "settings": {}}
    elif entry[:2] == ("ownership", "models"):
        holder[name] = {"team": ""}
    else:  # a team, a sink
        holder[name] = {}
