#!/usr/bin/env bash
# Build localhost/mailfleet-debian:RELEASE with debootstrap unless it exists.
# No registry can be reached from these machines, so the images are made here:
# a minimal Debian with python3 (for Ansible) and systemd (so services run as on a
# real host), plus the packages apt needs to talk to the mirror over HTTPS, and an SSH
# server (off until a scenario gives a container its own host keys and a login key).
set -euo pipefail
release=${1:?usage: build-image.sh bookworm|trixie}
image="localhost/mailfleet-debian:${release}"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Raise when the recipe below changes: an image of an older recipe is rebuilt.
recipe=3

if podman image exists "$image" &&
   [ "$(podman image inspect --format '{{ index .Labels "org.mailfleet.recipe" }}' "$image")" = "$recipe" ]; then
  exit 0
fi
echo "==> Building $image with debootstrap (about a minute)"
root=$(mktemp -d "/var/tmp/mailfleet-${release}.XXXXXX")
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase \
  --include=python3,python3-apt,systemd,systemd-sysv,dbus,ca-certificates,iproute2,procps,openssh-server \
  "$release" "$root" "$mirror" | awk '/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring|Base system)/ && NR % 25 == 0 {print "    " $0; fflush()}'
# Containers have no consoles to log into and no hardware clock to set.
chroot "$root" systemctl mask getty.target systemd-logind.service console-getty.service >/dev/null 2>&1 || true
# No host keys shared by every container of the image, and no sshd until a container has
# its own (tools/enable-ssh.sh).
rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" systemctl disable ssh.service >/dev/null 2>&1 || true
# Package lists stay, as on any installed host; the downloaded packages go.
rm -rf "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import --change 'CMD ["/lib/systemd/systemd"]' \
  --change "LABEL org.mailfleet.recipe=$recipe" - "$image" >/dev/null
echo "==> Built $image"
