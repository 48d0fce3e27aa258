"""Local stand-ins for the public base images, since no registry can be reached in CI.

Debian minbase rootfses made by debootstrap (cached as tarballs under .cache/rootfs, which git
ignores) are imported as ``localhost/rocket2-debian:SUITE``: Debian 13 (trixie) for the Python
stand-in, whose python3 is 3.13 like the real image's, Debian 12 (bookworm) for the others. The
Dockerfiles in standins/ build on them and are tagged with the exact names the real Dockerfile and
docker-compose.yml use, so those files run unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.container.engine import REPO, Docker

HERE = Path(__file__).resolve().parent
CACHE = REPO / ".cache" / "rootfs"
SUITE = "bookworm"
PYTHON_SUITE = "trixie"  # python3 3.13: the version of .python-version and the real image
# The mirror the host's apt uses (deb.debian.org); ROCKET2_DEBIAN_MIRROR overrides it.
MIRROR = os.environ.get("ROCKET2_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_IMAGE = f"localhost/rocket2-debian:{SUITE}"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# stand-in directory → the public names it is tagged with
STANDINS = {
    "python": ["python:3.13-slim"],
    "nginx": ["nginx:stable-alpine"],
    "certbot": ["certbot/certbot", "certbot/certbot:latest"],
}
# stand-in directory → the Debian suite it builds on (SUITE unless named here)
STANDIN_SUITES = {"python": PYTHON_SUITE}


def _mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (debootstrap mounts /proc and /sys in its target)."""
    prefix = str(path)
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(found, reverse=True)


def _remove_tree(path: Path) -> None:
    """Delete a rootfs directory, unmounting anything debootstrap left mounted in it first."""
    for point in _mounts_under(path):
        subprocess.run(["umount", "-l", point], check=False)
    if _mounts_under(path):
        raise AssertionError(f"cannot unmount everything under {path}; not deleting it")
    shutil.rmtree(path, ignore_errors=True)


def rootfs_tarball(suite: str = SUITE) -> Path:
    """The cached minbase rootfs as a tarball, made with debootstrap (about a minute) if missing."""
    key = hashlib.sha256(f"{suite} minbase {MIRROR} v1".encode()).hexdigest()[:12]
    tarball = CACHE / f"debian-{suite}-minbase-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be making it right now
        if tarball.exists():
            return tarball
        work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=CACHE))
        try:
            target = work / "rootfs"
            proc = subprocess.run(
                ["debootstrap", "--variant=minbase", suite, str(target), MIRROR],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if proc.returncode != 0:
                raise AssertionError(
                    f"debootstrap {suite} from {MIRROR} failed:\n{proc.stdout[-3000:]}"
                    f"\n{proc.stderr[-3000:]}"
                )
            # What Debian's official images do: no services start during apt-get in a build,
            # and no package indexes or downloaded .debs are kept.
            policy = target / "usr/sbin/policy-rc.d"
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
            for sub in ("var/lib/apt/lists", "var/cache/apt/archives"):
                for item in (target / sub).glob("*"):
                    if item.is_file():
                        item.unlink()
            partial = work / "rootfs.tar"
            subprocess.run(
                ["tar", "--numeric-owner", "-C", str(target), "-cf", str(partial), "."],
                check=True,
                timeout=300,
            )
            partial.rename(tarball)
        finally:
            _remove_tree(work)
    return tarball


def import_base(docker: Docker, suite: str = SUITE) -> str:
    """Import the suite's rootfs tarball as localhost/rocket2-debian:SUITE unless the engine
    already has this very one."""
    image = f"localhost/rocket2-debian:{suite}"
    tarball = rootfs_tarball(suite)
    stat = tarball.stat()
    stamp = f"{tarball.name}:{stat.st_size}:{int(stat.st_mtime)}"
    if docker.image_exists(image):
        labels = docker.inspect("image", image)["Config"].get("Labels") or {}
        if labels.get("org.rocket2.rootfs") == stamp:
            return image
    docker.run(
        "import",
        "--change",
        f"LABEL org.rocket2.rootfs={stamp}",
        "--change",
        'CMD ["/bin/bash"]',
        str(tarball),
        image,
        timeout=300,
    )
    return image


def build_standins(docker: Docker, workdir: Path) -> dict[str, str]:
    """Build the three stand-ins; returns public name → image id. Layer-cached by the engine."""
    images = {}
    for name, tags in STANDINS.items():
        base = import_base(docker, STANDIN_SUITES.get(name, SUITE))
        context = workdir / f"standin-{name}"
        shutil.copytree(HERE / "standins" / name, context)
        if name == "python":
            shutil.copyfile(HOST_CA_BUNDLE, context / "host-ca-certificates.crt")
        tag_args = [arg for tag in tags for arg in ("-t", tag)]
        docker.run("build", "--build-arg", f"BASE={base}", *tag_args, str(context), timeout=600)
        for tag in tags:
            images[tag] = docker.inspect("image", tag)["Id"]
    return images
