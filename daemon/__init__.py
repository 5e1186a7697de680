"""congsync: mirrors a congregation's meeting media from a WebDAV folder to this computer."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client (click, rich, pygments: about 0.05-0.3 s) whenever click
# happens to be installed; congsync never uses it. A None entry makes that import fail, which
# httpx expects (it then defines a stub `httpx.main`).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
