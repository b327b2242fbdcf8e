"""``python -m mcp_auth``: the ``mcp-auth`` command line."""

import sys

from .cli import main

sys.exit(main())
