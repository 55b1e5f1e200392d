"""YAML in and out through libyaml's C parser and emitter where PyYAML has them.

PyYAML's pure-Python loader took about a second of CPU for every twenty readings of the bundled
codebook; libyaml reads the same safe subset of YAML (no Python objects) several times faster.
Without libyaml (a PyYAML built without it) the pure-Python safe loader and dumper are used.
"""

from __future__ import annotations

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str):
    """Plain data from YAML text (``yaml.YAMLError`` when it is not valid YAML).

    Text that libyaml refuses is read again by the pure-Python loader, whose error is the one
    raised: it names the line of the problem as the messages here always have (libyaml points
    past the end for an unclosed bracket, for one)."""
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
    return yaml.safe_load(text)


def dump(data, **options) -> str:
    """YAML text for plain data (the options of ``yaml.dump``)."""
    return yaml.dump(data, Dumper=_DUMPER, **options)
