#!/usr/bin/env python3
"""A tar store's disk image on the host, through GNU tar: what `mirage-config
kv ls|get` runs for a disk that holds a ustar archive (kv-tar's driver.yaml
names this file as its host tool).

    host-tool.py ls IMAGE [KEY]      the entries under KEY, dictionaries ending in /
    host-tool.py get IMAGE KEY       a value, to standard output
    host-tool.py put IMAGE KEY FILE  refused: a tar store is read-only
    host-tool.py pack FOLDER IMAGE   FOLDER's files as a ustar archive, reproducibly:
                                     in name order, dates and owners zeroed, links
                                     packed as the files they name (`kv pack`, and
                                     kv-crunch's folder when build embeds it)
"""
import os, subprocess, sys


def tar(*arguments):
    try:
        # No locale or TAR_OPTIONS of the caller's may change the archive.
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TAR_OPTIONS": ""}
        result = subprocess.run(["tar"] + list(arguments), capture_output=True, timeout=300, env=environment)
    except FileNotFoundError:
        sys.exit("GNU tar is not installed: apt-get install tar")
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        sys.exit(lines[-1] if lines else "tar exited with %d" % result.returncode)
    return result.stdout


def members(image):
    names = []
    for line in tar("--list", "--file", image).decode(errors="surrogateescape").splitlines():
        names.append(line[2:] if line.startswith("./") else line)
    return names


def main(arguments):
    if len(arguments) < 2:
        sys.exit(__doc__)
    command, image = arguments[0], arguments[1]
    if command == "pack" and len(arguments) == 3:
        folder, image = arguments[1], arguments[2]
        tar("--create", "--format=ustar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0",
            "--numeric-owner", "--mode=u+rw,go+r,go-w", "--dereference", "--hard-dereference",
            "--file", image, "--directory", folder, ".")
    elif command == "ls":
        prefix = "/".join(part for part in (arguments[2] if len(arguments) > 2 else "").split("/") if part)
        found = set()
        for path in members(image):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix) + 1:] if prefix else path
            if not rest:
                continue
            parts = rest.split("/")
            name = parts[0] + "/" if len(parts) > 1 else parts[0]
            if name and name != "/":
                found.add(name)
        for name in sorted(found, key=lambda n: n.encode(errors="surrogateescape")):
            print(name)
    elif command == "get" and len(arguments) > 2:
        name = "/".join(part for part in arguments[2].split("/") if part)
        listed = tar("--list", "--file", image).decode(errors="surrogateescape").splitlines()
        member = next((line for line in listed if line in (name, "./" + name)), None)
        if member is None:
            sys.exit("%s has no key '%s'" % (image, arguments[2]))
        sys.stdout.buffer.write(tar("--extract", "--to-stdout", "--file", image, member))
    elif command == "put":
        sys.exit("a tar store is read-only: change the folder and pack it again (mirage-config kv pack DIR -o %s)" % image)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
