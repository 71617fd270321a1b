"""`python -m mso_cli` (how hooks start the detached uploader)."""

import sys

from mso_cli.main import main

sys.exit(main())
