# Shared by the .ci scripts.  The sourcing script defines log() and die() with its own prefix.

APT_UPDATED=""

apt_install() {  # apt_install PACKAGE...: from Debian's packages, updating the lists once
  [ "$(id -u)" = 0 ] || die "need root to install $* (or install it yourself and re-run)"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
