import sys

from derive.check.cli import main

if __name__ == "__main__":  # not when a grading process (spawn) imports this module again
    sys.exit(main())
