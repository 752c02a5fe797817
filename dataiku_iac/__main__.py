"""`python -m dataiku_iac` runs the `dss-iac` command line."""

import sys

from .cli import main

sys.exit(main())
