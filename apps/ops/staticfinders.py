"""Static files that ship inside installed Python packages: the dashboard's chart library.

plotly (PyPI) carries plotly.js in ``plotly/package_data/plotly.min.js``. This finder exposes it
as ``ops/vendor/plotly.min.js``, so WhiteNoise serves it like any static file (and
``collectstatic`` copies it): installed by pip from requirements.txt, never a CDN, never a
minified file committed to the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage


def _plotly_dir() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


# static path -> (package directory, file name)
FILES = {"ops/vendor/plotly.min.js": (_plotly_dir, "plotly.min.js")}


class PackageFinder(BaseFinder):
    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        entry = FILES.get(path)
        if entry is None:
            return [] if find_all else None
        full = str(entry[0]() / entry[1])
        return [full] if find_all else full

    def list(self, ignore_patterns: Any) -> Any:
        for path, (folder, name) in FILES.items():
            storage = FileSystemStorage(location=str(folder()))
            storage.prefix = str(Path(path).parent)  # type: ignore[attr-defined]
            yield name, storage
