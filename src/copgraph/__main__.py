import sys

from copgraph.cli import main

sys.exit(main())
