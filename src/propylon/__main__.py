import sys

from propylon.cli import main

sys.exit(main())
