"""`python -m dataiku_iac.sim shared DATA_DIR`: the shared simulator's server (started by `shared.attach`)."""

import sys

from .daemon import main

sys.exit(main(sys.argv[1:]))
