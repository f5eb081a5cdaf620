#!/usr/bin/env python3
"""Writes Wharf's container image as an OCI image layout in a tar archive, without
a container engine: one layer holding the static `wharfd` binary, the CA
certificates and an empty /tmp; a config that runs `/wharfd` as user 65532.

Everything is deterministic (file times 0, sorted entries, gzip without a name or
time), so the same binary gives the same digest.

    oci.py --binary PATH --ca-certificates PATH --version V --out ARCHIVE

Prints the image (manifest) digest on the last line.
"""

import argparse
import gzip
import hashlib
import io
import json
import tarfile

USER = "65532:65532"
CA_PATH = "etc/ssl/certs/ca-certificates.crt"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"


def entry(name, kind, mode, data=b""):
    """A tar member owned by root, with time 0."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(members):
    """A tar (PAX) of `members`, in the order given."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, data)
    return out.getvalue()


def gzip_bytes(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return out.getvalue()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--ca-certificates", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    with open(args.binary, "rb") as f:
        binary = f.read()
    with open(args.ca_certificates, "rb") as f:
        certificates = f.read()

    layer = tar_bytes([
        entry("etc/", tarfile.DIRTYPE, 0o755),
        entry("etc/ssl/", tarfile.DIRTYPE, 0o755),
        entry("etc/ssl/certs/", tarfile.DIRTYPE, 0o755),
        entry(CA_PATH, tarfile.REGTYPE, 0o644, certificates),
        entry("tmp/", tarfile.DIRTYPE, 0o1777),
        entry("wharfd", tarfile.REGTYPE, 0o755, binary),
    ])
    layer_gz = gzip_bytes(layer)

    config = canonical({
        "created": "1970-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": USER,
            "Entrypoint": ["/wharfd"],
            "Env": ["SSL_CERT_FILE=/" + CA_PATH],
            "WorkingDir": "/",
            "Labels": {
                "org.opencontainers.image.title": "wharfd",
                "org.opencontainers.image.version": args.version,
            },
        },
        "rootfs": {"type": "layers", "diff_ids": [digest(layer)]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "hack/image/oci.py"}],
    })
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": digest(layer_gz), "size": len(layer_gz)}],
    })
    index = canonical({
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": digest(manifest),
            "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": args.version},
        }],
    })

    def blob(data):
        return entry("blobs/sha256/" + digest(data).split(":", 1)[1], tarfile.REGTYPE, 0o644, data)

    archive = tar_bytes([
        entry("blobs/", tarfile.DIRTYPE, 0o755),
        entry("blobs/sha256/", tarfile.DIRTYPE, 0o755),
        blob(config),
        blob(layer_gz),
        blob(manifest),
        entry("index.json", tarfile.REGTYPE, 0o644, index),
        entry("oci-layout", tarfile.REGTYPE, 0o644, canonical({"imageLayoutVersion": "1.0.0"})),
    ])
    with open(args.out, "wb") as f:
        f.write(archive)
    print(f"image {args.out}: {len(archive)} bytes, layer {len(layer_gz)} bytes compressed")
    print(digest(manifest))


if __name__ == "__main__":
    main()
