"""``python -m justenough.cli``: the ``justenough`` executable."""

from justenough.cli import main

main()
