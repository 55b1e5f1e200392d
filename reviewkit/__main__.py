"""Run the command line: ``python -m reviewkit --help``."""

import sys

from reviewkit.cli import main

sys.exit(main())
