import sys

from provenance.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
