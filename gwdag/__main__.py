"""``python -m gwdag``: the ``gwdag`` command."""

from gwdag.cli import main

if __name__ == "__main__":
    main()
