"""What the procedure really imports: traced while `run --local` plays every task.

`kedro snowflake run --local` starts the process that plays Snowflake with this finder
first on `sys.meta_path`. It asks the other finders, as Python would, and notes which
of the procedure's zips each module came from, and which distributions' metadata any
code looked up (`importlib.metadata.version("x")` needs x's dist-info even when no
module of x is imported). After the graph, the process reports both; deploy then ships
only those zips (imports.py).
"""

from __future__ import annotations

import re
import sys
from typing import Any

ZIP_IN_PATH = re.compile(r"([^/\\]+\.zip)[/\\]")


class ImportTrace:
    """A meta path finder that finds nothing itself: it notes what the others find."""

    def __init__(self) -> None:
        self.zips: set[str] = set()
        self.distributions: set[str] = set()

    @classmethod
    def install(cls) -> ImportTrace:
        trace = cls()
        sys.meta_path.insert(0, trace)
        return trace

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                places = [spec.origin or "", *(spec.submodule_search_locations or ())]
                for place in places:
                    if found := ZIP_IN_PATH.search(str(place)):
                        self.zips.add(found[1])
                return spec
        return None

    def find_distributions(self, context: Any = None) -> Any:
        name = getattr(context, "name", None)
        if name:
            self.distributions.add(re.sub(r"[-_.]+", "-", name).lower())
        return iter(())

    def report(self) -> dict[str, list[str]]:
        return {"zips": sorted(self.zips), "distributions": sorted(self.distributions)}
