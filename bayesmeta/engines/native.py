"""The kernels as shared libraries: compiled once by numba, then loaded without numba.

Loading a kernel from numba's disk cache (``numba.cfunc(..., cache=True)``) first imports numba
and starts its compiler, about 0.5 s of every ``bayesmeta fit`` (issue 13). Here each C
callback of :mod:`bayesmeta.engines._numba` is compiled by numba once (the same typed and
optimised LLVM module numba's JIT runs), written as position-independent machine code for the
processor family (no model-specific instructions) and linked by the system C compiler (``cc``)
into ``<name>.so`` under the cache directory. A later process loads it with ``ctypes`` in about
a millisecond and never imports numba.

The code is numba's, so the numbers are the same bit for bit (tested, with the draws of a fit):
floating-point operations are neither reordered nor fused (``fastmath=False``; LLVM contracts
nothing without it). numba's callback wrapper calls a few helpers of numba's runtime on one
path only, when the Python function raised an exception, which the kernels never do; this module
links in stand-ins for them that set a Python ``RuntimeError`` there instead of numba's.

A library is found by a key of the kernels' source, the numba and llvmlite versions and the
platform. Without a C compiler (or on Windows) the build fails once, is recorded as failed, and
the kernels load from numba's disk cache as before (:mod:`bayesmeta.engines.kernels`).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Bump when the way a library is built changes, so older builds are not reused.
BUILD_VERSION = "1"
SOURCES = ("_numba.py", "kernel_model.py")  # what the compiled code depends on in this package

# Stand-ins for the numba runtime helpers the callback wrappers reference (see module docstring).
_HELPERS = r"""
@PyExc_RuntimeError = external global i8
@.message = private unnamed_addr constant [35 x i8] c"a bayesmeta kernel raised an error\00"
declare i32 @PyGILState_Ensure()
declare void @PyGILState_Release(i32)
declare void @PyErr_SetString(ptr, ptr)
declare void @free(ptr)
define void @numba_gil_ensure(ptr %state) {
  %gil = call i32 @PyGILState_Ensure()
  store i32 %gil, ptr %state
  ret void
}
define void @numba_gil_release(ptr %state) {
  %gil = load i32, ptr %state
  call void @PyGILState_Release(i32 %gil)
  ret void
}
define ptr @numba_unpickle(ptr %data, i32 %size, ptr %hash) {
  call void @PyErr_SetString(ptr @PyExc_RuntimeError, ptr @.message)
  ret ptr null
}
define ptr @numba_runtime_build_excinfo_struct(ptr %info, ptr %args) {
  call void @PyErr_SetString(ptr @PyExc_RuntimeError, ptr @.message)
  ret ptr null
}
define void @numba_do_raise(ptr %info) {
  ret void
}
define void @NRT_Free(ptr %p) {
  call void @free(ptr %p)
  ret void
}
define void @NRT_MemInfo_call_dtor(ptr %p) {
  ret void
}
"""
_HELPER_NAMES = (
    "numba_gil_ensure",
    "numba_gil_release",
    "numba_unpickle",
    "numba_runtime_build_excinfo_struct",
    "numba_do_raise",
    "NRT_Free",
    "NRT_MemInfo_call_dtor",
)


@dataclass(frozen=True)
class NativeKernel:
    """One C callback in a loaded shared library: its ``address``, as numba's ``cfunc``."""

    name: str
    address: int
    library: ctypes.CDLL


def symbol(name: str) -> str:
    """The exported name of kernel ``name`` in its library."""
    return f"bayesmeta_{name}"


@functools.cache
def build_key() -> str:
    """Hash of everything the compiled code depends on (sources, compiler versions,
    platform), naming the folder of the libraries."""
    digest = hashlib.sha256(BUILD_VERSION.encode())
    here = Path(__file__).parent
    for source in SOURCES:
        digest.update((here / source).read_bytes())
    for part in (
        version("numba"),
        version("llvmlite"),
        sys.platform,
        platform.machine(),
        f"{sys.version_info.major}.{sys.version_info.minor}",
    ):
        digest.update(part.encode())
    return digest.hexdigest()[:20]


def library_path(folder: Path, name: str) -> Path:
    return folder / build_key() / f"{name}.so"


def load(folder: Path, name: str) -> NativeKernel | None:
    """Kernel ``name`` from its shared library in ``folder``, building the library first if
    there is none; None if it cannot be built here (recorded, so the build is tried once)."""
    path = library_path(folder, name)
    failed = path.with_suffix(".failed")
    if not path.exists():
        if failed.exists() or not supported():
            return None
        try:
            build(name, path)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{type(exc).__name__}: {exc}\n")
            return None
    try:
        library = ctypes.CDLL(str(path))
        address = ctypes.cast(getattr(library, symbol(name)), ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    return NativeKernel(name, int(address or 0), library) if address else None


def supported() -> bool:
    """Whether shared libraries can be built here: Linux or macOS with a C compiler."""
    return sys.platform.startswith(("linux", "darwin")) and _compiler() is not None


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def build(name: str, path: Path) -> Path:
    """Compile kernel ``name`` with numba and link it into the shared library ``path``
    (written atomically).

    Raises
    ------
    RuntimeError
        numba's module could not be turned into a library; OSError or SubprocessError: the C
        compiler is missing or failed.
    """
    import llvmlite.binding as llvm

    cfunc = compile_cfunc(name)
    module = llvm.parse_assembly(str(cfunc._library._final_module))
    module.get_function(cfunc.native_name).name = symbol(name)
    helpers = llvm.parse_assembly(_HELPERS)
    helpers.triple, helpers.data_layout = module.triple, module.data_layout
    module.link_in(helpers)
    for helper in _HELPER_NAMES:
        module.get_function(helper).linkage = "internal"
    for fn in module.functions:  # export only the kernel
        if not fn.is_declaration and fn.name != symbol(name) and fn.linkage.name != "internal":
            fn.visibility = "hidden"
    for var in module.global_variables:
        if not var.is_declaration and var.linkage.name not in ("internal", "private"):
            var.visibility = "hidden"
    module.verify()
    machine = llvm.Target.from_triple(module.triple).create_target_machine(
        cpu="", features="", opt=3, reloc="pic", codemodel="default"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        obj = Path(tmp) / f"{name}.o"
        obj.write_bytes(machine.emit_object(module))
        out = Path(tmp) / f"{name}.so"
        flags = ["-undefined", "dynamic_lookup"] if sys.platform == "darwin" else []
        compiler = _compiler()
        if compiler is None:
            raise OSError("no C compiler (cc) found")
        subprocess.run(
            [compiler, "-shared", *flags, "-o", str(out), str(obj), "-lm"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        os.replace(out, path)
    return path


def compile_cfunc(name: str, cache: bool = False) -> Any:
    """numba's C callback of kernel ``name`` (compiled now; from numba's disk cache with
    ``cache``, the caller having set ``numba.config.CACHE_DIR``)."""
    import numba

    from bayesmeta.engines import _numba

    doubles = numba.types.CPointer(numba.types.double)
    if name.startswith("logp"):
        sig = numba.types.int64(numba.types.uint64, doubles, doubles, doubles, numba.types.voidptr)
    else:
        sig = numba.types.int64(
            numba.types.uint64, numba.types.uint64, doubles, doubles, numba.types.voidptr
        )
    return numba.cfunc(sig, cache=cache)(getattr(_numba, name))
