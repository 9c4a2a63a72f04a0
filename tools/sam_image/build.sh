#!/usr/bin/env bash
# Builds, offline, a stand-in for AWS's Lambda base image public.ecr.aws/lambda/python:3.13-arm64 and tags it with
# that name, so that `sam local invoke --skip-pull-image` runs the functions on a machine that reaches no image
# registry. It is NOT AWS's image: a Debian trixie arm64 root file system with Debian's Python 3.13, the AWS SDK and
# AWS's runtime interface client (awslambdaric) from PyPI in /var/runtime, and a /var/runtime/bootstrap that starts the
# client with the handler. SAM CLI adds the runtime interface emulator itself. Needs root, Docker, debootstrap, and
# qemu-user-static with binfmt_misc on a machine that is not arm64.
#
#   tools/sam_image/build.sh [work directory, default .tools/sam_image]
set -euo pipefail

IMAGE=public.ecr.aws/lambda/python:3.13-arm64
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The runtime's own packages, pinned: the SDK the functions call AWS with, and the runtime interface client.
RUNTIME_PACKAGES=(awslambdaric==4.2.2 boto3==1.44.5)
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-.tools/sam_image}
ROOTFS=$WORK/rootfs
PIP=${PIP:-.venv/bin/python -m pip}

step() { echo "sam-image: $1 ($SECONDS s)"; }
mkdir -p "$WORK"

if [[ ! -x $ROOTFS/usr/bin/python3 ]]; then
    step "debootstrap trixie arm64 into $ROOTFS"
    rm -rf "$ROOTFS"
    debootstrap --arch=arm64 --variant=minbase --include=python3 trixie "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log"
fi

step "pip install ${RUNTIME_PACKAGES[*]} (aarch64 wheels for CPython 3.13) into /var/runtime"
rm -rf "$ROOTFS/var/runtime" && mkdir -p "$ROOTFS/var/runtime" "$ROOTFS/var/task" "$ROOTFS/opt"
$PIP install --quiet --no-compile --target "$ROOTFS/var/runtime" --only-binary=:all: --implementation cp \
    --python-version 3.13 --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 "${RUNTIME_PACKAGES[@]}"
install -m 0755 "$HERE/bootstrap" "$ROOTFS/var/runtime/bootstrap"

# Under emulation an uncompiled cold start (boto3's and botocore's modules) took 45 s of the functions' 60 s.
step "byte code compiled in the image, by its own Python 3.13"
chroot "$ROOTFS" /usr/bin/python3 -m compileall -q -j 0 /usr/lib/python3.13 /var/runtime

step "docker build of $IMAGE (FROM scratch, the root file system, Dockerfile)"
rm -rf "$ROOTFS/var/cache/apt/archives/"*.deb "$ROOTFS/var/lib/apt/lists/"*
mkdir -p "$WORK/context"
tar -C "$ROOTFS" -cf "$WORK/context/rootfs.tar" .
# `docker import` would label the image with the machine's architecture; SAM asks for linux/arm64.
DOCKER_BUILDKIT=0 docker build --quiet --platform linux/arm64 -f "$HERE/Dockerfile" -t "$IMAGE" "$WORK/context" >/dev/null
rm "$WORK/context/rootfs.tar"
docker run --rm --platform linux/arm64 --entrypoint /usr/bin/python3 "$IMAGE" \
    -c 'import platform, sys; sys.path.append("/var/runtime"); import awslambdaric, boto3; print(platform.machine(), platform.python_version(), "boto3", boto3.__version__)'
step "done: $IMAGE"
