#!/usr/bin/env python3
"""Checks Wharf's image archive as a container runtime would see it: unpacks the
OCI layout, follows index -> manifest -> config and layer (checking every digest),
unpacks the root filesystem, and runs `/wharfd --version` from it.

    verify.py ARCHIVE VERSION

Fails (exit 1, with the reason) unless: the config runs as user 65532 with
entrypoint /wharfd; the root filesystem holds nothing but wharfd, the CA
certificates and /tmp (so no shell, no package manager); and the binary, static,
prints `wharfd VERSION`.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

EXPECTED_FILES = {"wharfd", "etc/ssl/certs/ca-certificates.crt"}
EXPECTED_DIRS = {"etc", "etc/ssl", "etc/ssl/certs", "tmp"}


def fail(message):
    print(f"[image] FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def needs_interpreter(path):
    """Whether the ELF64 file at `path` names a dynamic loader (a PT_INTERP header)."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        fail("wharfd is not a 64-bit ELF binary")
    phoff = int.from_bytes(elf[0x20:0x28], "little")
    phentsize = int.from_bytes(elf[0x36:0x38], "little")
    phnum = int.from_bytes(elf[0x38:0x3A], "little")
    PT_INTERP = 3
    return any(
        int.from_bytes(elf[phoff + i * phentsize:phoff + i * phentsize + 4], "little") == PT_INTERP
        for i in range(phnum)
    )


def main():
    archive, version = sys.argv[1], sys.argv[2]
    with tarfile.open(archive) as tar:
        files = {m.name.rstrip("/"): m for m in tar.getmembers()}

        def read(name):
            member = files.get(name) or fail(f"{name} missing from the layout")
            return tar.extractfile(member).read()

        def blob(descriptor):
            algorithm, hexdigest = descriptor["digest"].split(":", 1)
            data = read(f"blobs/{algorithm}/{hexdigest}")
            if hashlib.sha256(data).hexdigest() != hexdigest or len(data) != descriptor["size"]:
                fail(f"blob {descriptor['digest']} does not match its digest or size")
            return data

        if json.loads(read("oci-layout")).get("imageLayoutVersion") != "1.0.0":
            fail("oci-layout is not version 1.0.0")
        index = json.loads(read("index.json"))
        manifest = json.loads(blob(index["manifests"][0]))
        config = json.loads(blob(manifest["config"]))
        layers = manifest["layers"]
        if len(layers) != 1:
            fail(f"{len(layers)} layers, expected 1")
        layer = gzip.decompress(blob(layers[0]))

    run = config["config"]
    if run.get("User") != "65532:65532":
        fail(f"user is {run.get('User')!r}, expected 65532:65532")
    if run.get("Entrypoint") != ["/wharfd"]:
        fail(f"entrypoint is {run.get('Entrypoint')!r}, expected ['/wharfd']")
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    if config["rootfs"]["diff_ids"] != [diff_id]:
        fail("the config's diff_id is not the layer's")

    with tempfile.TemporaryDirectory() as root:
        with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
            members = tar.getmembers()
            names = {m.name.rstrip("/") for m in members if m.isfile()}
            dirs = {m.name.rstrip("/") for m in members if m.isdir()}
            others = [m.name for m in members if not (m.isfile() or m.isdir())]
            if names != EXPECTED_FILES or dirs != EXPECTED_DIRS or others:
                fail(f"unexpected root filesystem: files {sorted(names)}, dirs {sorted(dirs)}, other {others}")
            tar.extractall(root, filter="data")
        binary = os.path.join(root, "wharfd")
        if needs_interpreter(binary):
            fail("wharfd is dynamically linked: the image has no libraries to load")
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, env={}, cwd=root)
        if out.returncode != 0 or out.stdout.strip() != f"wharfd {version}":
            fail(f"/wharfd --version answered {out.returncode}: {out.stdout!r} {out.stderr!r}")
    print(f"[image] ok: user 65532, entrypoint /wharfd, no shell, {out.stdout.strip()}")


if __name__ == "__main__":
    main()
