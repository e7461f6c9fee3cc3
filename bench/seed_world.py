"""Benchmark: build the national world again (bench/world.py --rebuild), timed, with the machine's load.

What this script did (seed its own database and time it) is bench/world.py's role now: the world is
built once in ``cnas_national`` and every benchmark runs in it. This wrapper rebuilds it (`make bench`):

    .venv/bin/python bench/seed_world.py [--agents 1000000] [--adherents 21000] [--requests 3000000]

is ``bench/world.py --rebuild`` with the same options.
"""

import sys

import world

if __name__ == "__main__":
    if "--rebuild" not in sys.argv:
        sys.argv.insert(1, "--rebuild")
    world.main()
