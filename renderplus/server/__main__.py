"""``python3 server`` from the add-on folder, and ``python3 -m renderplus.server``.

Run as a folder, Python puts this ``server/`` folder first on ``sys.path`` and gives the module
no package, so relative imports fail and our module names could shadow others. So the folder
is taken off ``sys.path`` and the add-on folder is registered as the package ``renderplus``
directly -- whatever the installed folder is called, and without running the add-on's
``__init__.py``, which is Blender's business -- and the CLI (``renderplus.cli``) is imported
from it.
"""

from __future__ import annotations

import sys

if __package__:
    from ..cli import main
else:
    import importlib
    import os
    import types

    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _here]
    if "renderplus" not in sys.modules:
        _package = types.ModuleType("renderplus")
        _package.__path__ = [os.path.dirname(_here)]
        _package.__package__ = "renderplus"
        sys.modules["renderplus"] = _package
    main = importlib.import_module("renderplus.cli").main

if __name__ == "__main__":
    sys.exit(main())
