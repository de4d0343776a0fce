"""The program a forest-compiling child process runs (:mod:`matcher.forest`).

``python forest_child.py MODEL_FILE OBJECT_FILE raw|objective`` compiles a LightGBM model file
with lleaves (to raw scores, or with its objective's link) and writes the machine code to
``OBJECT_FILE``, which ``lleaves.Model.compile(cache=OBJECT_FILE)`` then loads.

It is lleaves' own compile (the same IR, optimised at LLVM's level 3) except for the code
generator, which runs at LLVM's ``-O0``: on a 1,500-tree chunk the full code generator took
0.66 s of a 2.9 s compile (0.12 s at ``-O0``) for predictions that are the same to the bit and
10–45% faster (227,266 rows: 0.56 against 0.62 s in one thread per chunk; 0.43 against 0.63 s for
a 3,000-tree forest's two chunks on two threads). The training job predicts each forest once
(its held-out pairs), so the compile is what it waits for.

The object is an ordinary relocatable object for this host, as lleaves' MCJIT caches it.

Run as a script, not imported: it needs nothing but lleaves' compiler and llvmlite.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _lleaves_compiler() -> ModuleType:
    """``lleaves.compiler``, imported without running ``lleaves/__init__``: that imports pandas
    for prediction (a quarter of a second per process), and the compiler needs only llvmlite."""
    spec = importlib.util.find_spec("lleaves")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("lleaves is not installed")
    package = ModuleType("lleaves")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules.setdefault("lleaves", package)
    return importlib.import_module("lleaves.compiler")


def compile_forest(model_file: str, object_file: str, *, raw_score: bool) -> None:
    """Compile ``model_file`` and write its machine code to ``object_file``."""
    import llvmlite.binding as llvm

    compile_to_module = _lleaves_compiler().compile_to_module
    module = compile_to_module(model_file, raw_score=raw_score)
    llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    try:
        features = llvm.get_host_cpu_features().flatten()
    except RuntimeError:  # LLVM cannot detect this host's features
        features = ""
    machine = llvm.Target.from_triple(llvm.get_process_triple()).create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=features, reloc="pic", codemodel="large", opt=0
    )
    module.data_layout = str(machine.target_data)
    Path(object_file).write_bytes(machine.emit_object(module))


if __name__ == "__main__":
    compile_forest(sys.argv[1], sys.argv[2], raw_score=sys.argv[3] == "raw")
