"""Import pyas2lib (test-only, an AS2 implementation riskplan did not write) on OpenSSL 3.0.x.

oscrypto 1.3.0 (pyas2lib's crypto back end, the newest on PyPI) reads the libcrypto version with the
regex ``\\d\\.\\d\\.\\d[a-z]*`` and so fails on a two-digit patch release such as "OpenSSL 3.0.19"
("Error detecting the version of libcrypto"); ``oscrypto.use_openssl()`` does not help because the same
library reports the same string. oscrypto's own fix (upstream, unreleased) widens the regex to
``\\d+\\.\\d+\\.\\d+``; this import hook applies exactly that change to the two version-reading modules
when they are loaded. Nothing else in oscrypto is touched.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_MODULES = frozenset({"oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"})
_OLD = "'\\\\b(\\\\d\\\\.\\\\d\\\\.\\\\d[a-z]*)\\\\b'"
_NEW = "'\\\\b(\\\\d+\\\\.\\\\d+\\\\.\\\\d+[a-z]*)\\\\b'"


class _VersionRegexFix(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in _MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.origin:
                return importlib.util.spec_from_file_location(name, spec.origin, loader=self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        assert module.__spec__ is not None and module.__spec__.origin is not None
        origin = module.__spec__.origin
        source = Path(origin).read_text().replace(_OLD, _NEW)
        exec(compile(source, origin, "exec"), module.__dict__)


def import_pyas2lib() -> ModuleType:
    """pyas2lib, importable on this machine's OpenSSL (the hook is installed once)."""
    if not any(isinstance(f, _VersionRegexFix) for f in sys.meta_path):
        sys.meta_path.insert(0, _VersionRegexFix())
    import pyas2lib

    return pyas2lib
