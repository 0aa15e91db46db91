"""The host's Python interpreter as the files of an image root: no distribution, no registry.

``python_root()`` collects, for the interpreter running oneclick (its base installation, not
a virtual environment):

- the interpreter binary at ``/usr/local/bin/python<X.Y>``, with ``python3`` and ``python``
  linking to it (the app's command runs ``python`` from ``PATH``);
- its standard library at ``/usr/local/lib/python<X.Y>/``, without test suites, IDLE,
  tkinter, ``ensurepip``, the static library under ``config-*``, ``site-packages`` and
  bytecode caches; extension modules that only serve tests or tkinter are left out too;
- every shared library ``ldd`` lists for the binary and the kept extension modules, in
  ``/usr/lib/<multiarch>/`` (a directory the dynamic loader searches without a cache), and
  the loader itself where the binary asks for it (``/lib64/ld-linux-x86-64.so.2``, reached
  through the merged-``/usr`` links ``/lib`` -> ``usr/lib`` and ``/lib64`` -> ``usr/lib64``);
- a minimal ``/etc`` (``passwd``, ``group``, ``hosts``, ``nsswitch.conf``) and ``/tmp``.

A library ``ldd`` cannot find is a ``BuildError``: an image that would fail to start is
never written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from oneclick.errors import BuildError
from oneclick.images.layers import LayerEntry

PREFIX = "usr/local"
SKIPPED_DIRS = frozenset(
    {"test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip", "__pycache__"}
)
SKIPPED_TOP = frozenset({"site-packages", "dist-packages"})
SKIPPED_EXTENSIONS = ("_test", "_tkinter", "xxlimited", "_xxtestfuzz", "_ctypes_test")
LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(\S+)\s+\(0x[0-9a-f]+\)\s*$")
LOADER_LINE = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
ETC_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
}
MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}


@dataclass(frozen=True)
class PythonRoot:
    """The collected files, the interpreter's full version and the libraries it needs."""

    entries: list[LayerEntry]
    version: str
    libraries: list[str]

    @property
    def short_version(self) -> str:
        return ".".join(self.version.split(".")[:2])


def python_root() -> PythonRoot:
    """The running interpreter's base installation as image entries; see the module docstring."""
    short = f"{sys.version_info.major}.{sys.version_info.minor}"
    binary = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    if not binary.is_file() or not (stdlib / "os.py").is_file():
        raise BuildError(
            f"expected a Python installation with its interpreter at {binary} and its "
            f"standard library at {stdlib}, found neither complete"
        )
    entries = [
        LayerEntry(path=f"{PREFIX}/bin/python{short}", source=binary, executable=True),
        LayerEntry(path=f"{PREFIX}/bin/python3", link=f"python{short}"),
        LayerEntry(path=f"{PREFIX}/bin/python", link=f"python{short}"),
    ]
    stdlib_entries, extensions = _stdlib_entries(stdlib, f"{PREFIX}/lib/python{short}")
    entries += stdlib_entries
    libraries, loader = shared_libraries([binary, *extensions])
    entries += library_entries(libraries)
    loader_file = Path(os.path.realpath(loader))
    entries.append(LayerEntry(path=_in_merged_usr(loader), source=loader_file, executable=True))
    entries += [LayerEntry(path=link, link=target) for link, target in MERGED_USR.items()]
    entries += [LayerEntry(path=p, data=text.encode()) for p, text in ETC_FILES.items()]
    entries += [
        LayerEntry(path="tmp", is_dir=True, mode=0o1777),
        LayerEntry(path="usr/bin", is_dir=True),
        LayerEntry(path="usr/sbin", is_dir=True),
        LayerEntry(path="root", is_dir=True, mode=0o700),
    ]
    version = ".".join(str(part) for part in sys.version_info[:3])
    return PythonRoot(entries=entries, version=version, libraries=sorted(libraries))


def _stdlib_entries(stdlib: Path, prefix: str) -> tuple[list[LayerEntry], list[Path]]:
    entries = [LayerEntry(path=prefix, is_dir=True)]
    extensions: list[Path] = []
    for directory, dirnames, filenames in os.walk(stdlib):
        here = Path(directory)
        relative = here.relative_to(stdlib).as_posix()
        dirnames[:] = sorted(d for d in dirnames if _keep_dir(d, relative))
        base = prefix if relative == "." else f"{prefix}/{relative}"
        entries += [LayerEntry(path=f"{base}/{d}", is_dir=True) for d in dirnames]
        for name in sorted(filenames):
            path = here / name
            if name.endswith((".pyc", ".pyo")) or not path.is_file():
                continue
            if name.endswith(".so"):
                if name.startswith(SKIPPED_EXTENSIONS):
                    continue
                extensions.append(path)
            executable = bool(path.stat().st_mode & 0o111)
            entries.append(
                LayerEntry(path=f"{base}/{name}", source=path.resolve(), executable=executable)
            )
    return entries, extensions


def _keep_dir(name: str, relative: str) -> bool:
    if name in SKIPPED_DIRS:
        return False
    return not (relative == "." and (name in SKIPPED_TOP or name.startswith("config-")))


def library_entries(libraries: dict[str, Path]) -> list[LayerEntry]:
    """Shared libraries (by the name the loader looks for) in ``/usr/lib/<multiarch>/``."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or _multiarch(libraries)
    return [
        LayerEntry(path=f"usr/lib/{multiarch}/{name}", source=path)
        for name, path in sorted(libraries.items())
    ]


def shared_libraries(binaries: list[Path]) -> tuple[dict[str, Path], str]:
    """The shared libraries ``binaries`` need (name -> file), and the dynamic loader's path."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise BuildError("expected ldd (from libc-bin) to list the interpreter's libraries")
    libraries: dict[str, Path] = {}
    loader = ""
    for binary in binaries:
        done = subprocess.run(
            [ldd, str(binary)], capture_output=True, text=True, check=False, timeout=60
        )
        for line in done.stdout.splitlines():
            if "not found" in line:
                raise BuildError(
                    f"{binary} needs a shared library this machine lacks ({line.strip()}); "
                    "install it, or build the runtime on a machine with a complete Python"
                )
            if found := LDD_LINE.match(line):
                libraries[found.group(1)] = Path(os.path.realpath(found.group(2)))
            elif found := LOADER_LINE.match(line):
                loader = found.group(1)
    if not loader and binaries:
        raise BuildError(f"ldd named no dynamic loader for {binaries[0]}; is it a static binary?")
    libraries = {name: path for name, path in libraries.items() if "ld-linux" not in name}
    return libraries, loader


def _multiarch(libraries: dict[str, Path]) -> str:
    libc = libraries.get("libc.so.6")
    return libc.parent.name if libc is not None else "x86_64-linux-gnu"


def _in_merged_usr(path: str) -> str:
    """``/lib64/ld-linux-x86-64.so.2`` -> ``usr/lib64/ld-linux-x86-64.so.2``."""
    parts = PurePosixPath(path).relative_to("/").parts
    if parts and parts[0] in MERGED_USR:
        return "/".join((MERGED_USR[parts[0]], *parts[1:]))
    return "/".join(parts)
