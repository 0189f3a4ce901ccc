"""`python -m rbkit ...`: the same command line as the `rbkit` script."""

from rbkit.cli import main

if __name__ == "__main__":
    main()
