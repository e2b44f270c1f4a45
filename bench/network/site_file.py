#!/usr/bin/env python3
"""Writes the benchmark's 10 MiB PDF-sized file: the same bytes for the Linux
guest's nginx and for examples/website (random from a fixed seed: a PDF's
streams are compressed, so git and zlib cannot shrink it either)."""
import random, sys

open(sys.argv[1], "wb").write(random.Random(24).randbytes(10 * 1024 * 1024))
