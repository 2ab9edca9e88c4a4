#!/bin/bash
# deb.sh -- the Debian package (issue 19). scripts/build-deb (what `make deb` runs) builds
# rcptdir and rcptdir-dbgsym with dpkg-buildpackage from a clean copy, leaving the tree as it
# was; contents, dependencies and conffile; lintian (errors and warnings fail).
# Then, as root, in a throwaway Debian 12 root without systemd (debootstrap minbase, cached in
# /var/cache/rcptdir-test): install (the user, /var/lib/rcptdir, lookupd enabled, the sync
# not), rcptdir-syncd -n and a sync from an LDIF as rcptdir, rcptdir-lookupd -q; an upgrade
# to a version rebuilt in a second root that has only the Build-Depends, its conffile changed
# as well as the admin's: the admin's edit and the store survive; remove keeps config and
# store; purge leaves the file list as it was before the install (the account stays, owning
# nothing); again with systemd-sysusers instead of adduser. Prints TAP.
# shellcheck disable=SC2016 # dpkg-query's ${Field} formats are meant literally
set -u
# shellcheck source=tests/data/lookupd/lib.sh
. "$(dirname "$0")/../data/lookupd/lib.sh"

CACHE=${RCPTDIR_TEST_CACHE:-/var/cache/rcptdir-test}
BASE=$CACHE/bookworm-minbase.tar
MIRROR=http://deb.debian.org/debian
CONF=/etc/rcptdir/rcptdir.conf
# the throwaway roots live in a directory of their own, removed only once nothing is
# mounted in it; the helper library's EXIT trap (logs in $T) runs after
ROOTS=$(mktemp -d /tmp/rcptdir-deb-roots.XXXXXX) || exit 1
ROOT=$ROOTS/root
BROOT=$ROOTS/buildroot
LIB_EXIT=$(trap -p EXIT)
LIB_EXIT=${LIB_EXIT#trap -- \'}
LIB_EXIT=${LIB_EXIT%\' EXIT}

# deb_cleanup - unmount the install root's /proc, remove the roots, run the library's trap
deb_cleanup() {
    grep -q " $ROOT/proc " /proc/mounts && { umount "$ROOT/proc" || umount -l "$ROOT/proc"; }
    if grep -q " $ROOTS/" /proc/mounts; then
        echo "# deb.sh: $ROOTS still has mounts; not removed" >&2
    else
        rm -rf "$ROOTS"
    fi
    eval "$LIB_EXIT"
}
trap deb_cleanup EXIT

# fail_log DESC FILE - not_ok DESC with the tail of FILE as diagnostics
fail_log() {
    not_ok "$1"
    tail -n 25 "$2" | sed 's/^/#   /'
}

# ---------------------------------------------------------------- build
case $BUILD in */san | */san/) skip_all "the package is built without sanitizers: the normal run tests it" ;; esac
for tool in dpkg-buildpackage dh fakeroot; do
    command -v "$tool" >/dev/null || skip_all "$tool missing (scripts/deps installs dpkg-dev, debhelper, fakeroot)"
done
status_before=$(git -C "$TOP" status --porcelain --ignored 2>/dev/null)
if "$TOP/scripts/build-deb" "$T/v1" >"$T/build1.out" 2>&1; then
    ok "build-deb: dpkg-buildpackage -us -uc -b in a clean copy (unit tests included)"
else
    fail_log "build-deb: dpkg-buildpackage -us -uc -b in a clean copy" "$T/build1.out"
    done_testing
    exit 1
fi
echo "# built in $SECONDS s"
V1=$(cd "$TOP" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
DEB1=$T/v1/rcptdir_${V1}_$ARCH.deb
check "built rcptdir_${V1}_$ARCH.deb and rcptdir-dbgsym_${V1}_$ARCH.deb" \
    test -s "$DEB1" -a -s "$T/v1/rcptdir-dbgsym_${V1}_$ARCH.deb"
check_eq "the source tree is as it was (git status, ignored files included)" \
    "$status_before" "$(git -C "$TOP" status --porcelain --ignored 2>/dev/null)"

dpkg-deb -c "$DEB1" | awk '{print $6}' | sed 's|^\./|/|' >"$T/contents"
want="/usr/sbin/rcptdir-syncd /usr/sbin/rcptdir-lookupd /usr/share/man/man5/rcptdir.conf.5.gz
/usr/share/man/man8/rcptdir-syncd.8.gz /usr/share/man/man8/rcptdir-lookupd.8.gz
/etc/rcptdir/rcptdir.conf /lib/systemd/system/rcptdir-lookupd.service
/lib/systemd/system/rcptdir-syncd.service /lib/systemd/system/rcptdir-syncd.timer
/lib/systemd/system/rcptdir-syncd-watch.service /usr/lib/sysusers.d/rcptdir.conf
/usr/share/doc/rcptdir/README.md.gz /usr/share/doc/rcptdir/operations.md.gz
/usr/share/doc/rcptdir/changelog.gz /usr/share/doc/rcptdir/copyright
/usr/share/doc/rcptdir/examples/rcptdir.conf.example /usr/share/doc/rcptdir/examples/rcptdir.cron"
missing=$(for f in $want; do grep -qxF "$f" "$T/contents" || echo "$f"; done)
check_eq "package holds binaries, man pages, conffile, units, sysusers file, docs, examples" "" "$missing"
check_eq "nothing in /var/lib/rcptdir or /etc/rcptdir but the conffile is dpkg's (remove keeps the store)" \
    "/etc/rcptdir/ /etc/rcptdir/rcptdir.conf" "$(grep -E '^/(var/lib|etc)/rcptdir' "$T/contents" | tr '\n' ' ' | sed 's/ $//')"
dpkg-deb -e "$DEB1" "$T/control1"
check_eq "conffiles: /etc/rcptdir/rcptdir.conf" "/etc/rcptdir/rcptdir.conf" "$(cat "$T/control1/conffiles")"
depends=$(dpkg-deb -f "$DEB1" Depends)
check "Depends computed by dpkg-shlibdeps (libldap, liblmdb, libmicrohttpd, libcurl) and adduser | systemd-sysusers" \
    grep -qE '^adduser \| systemd-sysusers, .*libcurl4.*libldap-[0-9.]+-0.*liblmdb0.*libmicrohttpd12' <<<"$depends"
check "Suggests postfix | exim4 | sendmail" grep -q 'postfix | exim4 | sendmail' <<<"$(dpkg-deb -f "$DEB1" Suggests)"

if command -v lintian >/dev/null; then
    lintian --fail-on error,warning "$T/v1/rcptdir_${V1}_$ARCH.changes" >"$T/lintian.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "lintian: no errors, no warnings"
    else
        fail_log "lintian: no errors, no warnings (exit $rc)" "$T/lintian.out"
    fi
else
    ok "lintian # SKIP lintian missing (scripts/deps installs it)"
fi

# ---------------------------------------------------------------- a throwaway Debian 12 root
[ "$(id -u)" -eq 0 ] || {
    ok "install, upgrade, remove, purge in a Debian 12 root # SKIP not root (chroot)"
    done_testing
    exit
}

# make_base - debootstrap bookworm (minbase) with apt lists into $BASE, once
make_base() {
    local d=$ROOTS/base # under ROOTS: removed only if debootstrap left nothing mounted
    [ -s "$BASE" ] && return 0
    command -v debootstrap >/dev/null || return 1
    mkdir -p "$CACHE" || return 1
    debootstrap --variant=minbase bookworm "$d" "$MIRROR" >"$T/debootstrap.log" 2>&1 || return 1
    cp /etc/resolv.conf "$d/etc/resolv.conf"
    chroot "$d" apt-get update -q >>"$T/debootstrap.log" 2>&1 || return 1
    chroot "$d" apt-get clean
    tar -C "$d" -cf "$BASE.$$" . && mv "$BASE.$$" "$BASE"
    rm -rf "$d"
}
# in_dir DIR CMD... - run CMD in the root DIR, with a clean environment
in_dir() {
    local dir=$1
    shift
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root \
        DEBIAN_FRONTEND=noninteractive "$@"
}
# in_root CMD... - run CMD in the root the package is installed in
in_root() { in_dir "$ROOT" "$@"; }
# new_root DIR - a copy of the cached Debian 12 root in DIR; its dpkg does not fsync (a
# throwaway root: the time goes to the test)
new_root() {
    mkdir "$1" && tar -C "$1" -xf "$BASE" && cp /etc/resolv.conf "$1/etc/resolv.conf" &&
        echo force-unsafe-io >"$1/etc/dpkg/dpkg.cfg.d/rcptdir-test-unsafe-io"
}
# has_user - the rcptdir account exists in the root
has_user() { in_root getent passwd rcptdir >/dev/null; }
# as_rcptdir CMD... - run CMD in the root as the rcptdir user
as_rcptdir() { in_root runuser -u rcptdir -- "$@"; }
# apt_in DIR ARGS... - apt-get in the root DIR, .debs kept in $CACHE/apt; when the cached
# lists are out of date (a package moved on the mirror), update them and try again
apt_in() {
    local dir=$1 rc
    shift
    mkdir -p "$CACHE/apt"
    cp "$CACHE"/apt/*.deb "$dir/var/cache/apt/archives/" 2>/dev/null
    in_dir "$dir" apt-get -y -q --no-install-recommends "$@" >>"$T/apt.out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        in_dir "$dir" apt-get update -q >>"$T/apt.out" 2>&1
        in_dir "$dir" apt-get -y -q --no-install-recommends "$@" >>"$T/apt.out" 2>&1
        rc=$?
    fi
    cp -n "$dir"/var/cache/apt/archives/*.deb "$CACHE/apt/" 2>/dev/null
    return "$rc"
}
apt_root() { apt_in "$ROOT" "$@"; }
# snapshot FILE - every path in the root with type, owner, group and mode, but for the
# state of dpkg and apt, caches, logs and /tmp
snapshot() {
    in_root find / -xdev \( -path /proc -o -path /tmp -o -path /var/log -o -path /var/lib/dpkg \
        -o -path /var/lib/apt -o -path /var/cache/apt -o -path /var/cache/debconf \
        -o -path /var/cache/ldconfig \) -prune -o -printf '%p %y %u:%g %m\n' | sort >"$1"
}

t0=$SECONDS
if ! make_base; then
    ok "install, upgrade, remove, purge in a Debian 12 root # SKIP no Debian 12 root: debootstrap from $MIRROR failed"
    tail -n 5 "$T/debootstrap.log" 2>/dev/null | sed 's/^/#   /'
    done_testing
    exit
fi
new_root "$ROOT"
mount -t proc proc "$ROOT/proc"
mkdir "$ROOT/tmp/pkg"
cp "$DEB1" "$TOP/tests/data/ldif/ldapsearch.ldif" "$ROOT/tmp/pkg/"
chmod 755 "$ROOT/tmp/pkg" && chmod 644 "$ROOT"/tmp/pkg/*
echo "# Debian 12 root ready in $((SECONDS - t0)) s"

# the dependencies first, so that the file lists before the install and after the purge
# differ by what rcptdir did and nothing else
if apt_root satisfy "$depends"; then
    ok "root: the package's dependencies installed with apt-get satisfy"
else
    fail_log "root: the package's dependencies installed with apt-get satisfy" "$T/apt.out"
    done_testing
    exit 1
fi
check "root: no systemd here (a machine without systemd)" \
    test ! -e "$ROOT/bin/systemctl" -a ! -e "$ROOT/usr/bin/systemd-sysusers"
snapshot "$T/files-before"

# ---------------------------------------------------------------- install
if in_root dpkg -i "/tmp/pkg/${DEB1##*/}" >"$T/install.out" 2>&1; then
    ok "dpkg -i rcptdir_$V1: postinst succeeds without systemd"
else
    fail_log "dpkg -i rcptdir_$V1: postinst succeeds without systemd" "$T/install.out"
fi
pw=$(in_root getent passwd rcptdir)
# adduser (no systemd-sysusers here) adds the empty chfn fields: ",,,"
check_eq "user rcptdir made by adduser: home /var/lib/rcptdir, no login shell" \
    "rcptdir recipient directory,,,:/var/lib/rcptdir:/usr/sbin/nologin" "$(cut -d: -f5- <<<"$pw")"
uid=$(cut -d: -f3 <<<"$pw")
check "  ... with a system uid ($uid)" test "${uid:-1000}" -lt 1000
check_eq "/var/lib/rcptdir: rcptdir:rcptdir 750" "rcptdir:rcptdir 750" \
    "$(in_root stat -c '%U:%G %a' /var/lib/rcptdir)"
check "rcptdir-lookupd.service enabled (multi-user.target.wants)" \
    test -L "$ROOT/etc/systemd/system/multi-user.target.wants/rcptdir-lookupd.service"
check_eq "the sync is not enabled (timer, --watch service)" "" \
    "$(cd "$ROOT/etc/systemd/system" && ls -d -- */rcptdir-syncd* 2>/dev/null)"

# the conffile as shipped: lookupd can start with it, syncd has no source yet
in_root rcptdir-lookupd -n -c "$CONF" >"$T/n.out" 2>&1
check_eq "shipped conffile: rcptdir-lookupd -n says configuration OK" "0 configuration OK" "$? $(cat "$T/n.out")"
in_root rcptdir-syncd -n -c "$CONF" >"$T/n.out" 2>&1
rc=$?
check_eq "shipped conffile: rcptdir-syncd -n exits 78 (no source configured yet)" 78 "$rc"
check "  ... and says there is no source" grep -q 'no source' "$T/n.out"
as_rcptdir rcptdir-lookupd -c "$CONF" -q alice@example.org >"$T/q.out" 2>&1
check_eq "never synced: rcptdir-lookupd -q exits 75 (try again later)" 75 "$?"

# lookupd as its unit starts it (User=rcptdir, RuntimeDirectory=rcptdir), with the shipped
# conffile, in a network namespace of its own (its ports are the defaults): it listens and
# answers "try again later" (HTTP 503) before the first sync
mkdir "$ROOT/run/rcptdir" && in_root chown rcptdir:rcptdir /run/rcptdir
uidgid=$(cut -d: -f3,4 <<<"$pw")
# shellcheck disable=SC2016 # the inner shell's variables
unshare -n bash -c '
    ip link set lo up || exit 1
    chroot --userspec="$2" "$1" /usr/sbin/rcptdir-lookupd -c /etc/rcptdir/rcptdir.conf -d >"$3/lookupd.out" 2>&1 &
    for _ in $(seq 100); do
        grep -q "lookupd: ready" "$3/lookupd.out" && break
        kill -0 $! 2>/dev/null || break
        sleep 0.1
    done
    curl -s -o /dev/null -w "status %{http_code} " http://127.0.0.1:8642/v1/status
    curl -s -o /dev/null -w "recipient %{http_code} " http://127.0.0.1:8642/v1/recipients/alice@example.org
    test -S "$1/run/rcptdir/socketmap" && echo -n "socketmap "
    kill -TERM $! && wait $!
    echo "exit $?"' sh "$ROOT" "$uidgid" "$T" >"$T/start.out" 2>&1
check_eq "shipped conffile: lookupd starts as rcptdir, /v1/status and a lookup 503, unix socket, clean stop" \
    "status 503 recipient 503 socketmap exit 0" "$(cat "$T/start.out")"
grep -q "lookupd: ready" "$T/lookupd.out" || sed 's/^/#   /' "$T/lookupd.out"
rm -rf "$ROOT/run/rcptdir" # tmpfs under systemd; gone at the stop

# ---------------------------------------------------------------- local edit: an [ldif] source; a sync
# (the export holds no objectClass: every entry with a mail attribute)
printf '\n; local edit (deb.sh): the directory from an LDIF export\n[ldif]\npath = %s\n%s\n%s\n' \
    /tmp/pkg/ldapsearch.ldif 'filter = (mail=*)' 'disabled_filter = (description=disabled)' >>"$ROOT$CONF"
cp "$ROOT$CONF" "$T/conf-edited"
as_rcptdir rcptdir-syncd -n -c "$CONF" >"$T/n.out" 2>&1
check_eq "edited conffile: rcptdir-syncd -n as rcptdir says configuration OK" "0 configuration OK" \
    "$? $(cat "$T/n.out")"
as_rcptdir rcptdir-syncd -c "$CONF" >"$T/sync.out" 2>&1
rc=$?
check_eq "sync from the LDIF as rcptdir: exit 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/sync.out"
check_eq "  ... the store's files belong to rcptdir" "rcptdir rcptdir" \
    "$(in_root stat -c %U /var/lib/rcptdir/data.mdb /var/lib/rcptdir/lock.mdb | tr '\n' ' ' | sed 's/ $//')"
as_rcptdir rcptdir-lookupd -c "$CONF" -q A@example.org >"$T/q.out" 2>&1
rc=$?
check_eq "rcptdir-lookupd -q A@example.org: exit 0 (valid)" 0 "$rc"
check "  ... primary address alice@example.org" grep -q '"primary":"alice@example.org"' "$T/q.out"
gen1=$(grep -o '"generation":[0-9]*' "$T/q.out")
as_rcptdir rcptdir-lookupd -c "$CONF" -q bob@example.org >/dev/null 2>&1
check_eq "rcptdir-lookupd -q bob@example.org (disabled): exit 1" 1 "$?"
as_rcptdir rcptdir-lookupd -c "$CONF" -q nobody@example.org >/dev/null 2>&1
check_eq "rcptdir-lookupd -q nobody@example.org (unknown): exit 1" 1 "$?"

# ---------------------------------------------------------------- upgrade to a rebuilt, bumped version
# built in a second Debian 12 root that has build-essential and the Build-Depends, nothing
# else: the Build-Depends are complete. Its conffile changed too (a line added to the
# example), so that dpkg has both an admin's and a packager's change to weigh.
V2=$V1+debtest1
NEWLINE="; deb.sh: a line new in $V2"
t1=$SECONDS
new_root "$BROOT"
"$TOP/scripts/build-deb" --copy "$BROOT/src/rcptdir"
echo "$NEWLINE" >>"$BROOT/src/rcptdir/docs/rcptdir.conf.example"
if apt_in "$BROOT" install build-essential && apt_in "$BROOT" build-dep /src/rcptdir; then
    ok "build root: build-essential and apt-get build-dep (the Build-Depends) installed"
else
    fail_log "build root: build-essential and apt-get build-dep (the Build-Depends) installed" "$T/apt.out"
fi
if in_dir "$BROOT" env DEB_NEW_VERSION="$V2" \
    /src/rcptdir/scripts/build-deb /src/out >"$T/build2.out" 2>&1; then
    ok "rebuilt with version $V2 in the build root (nothing but the Build-Depends), unit tests included"
else
    fail_log "rebuilt with version $V2 in the build root (nothing but the Build-Depends)" "$T/build2.out"
fi
echo "# build root and rebuild: $((SECONDS - t1)) s"
DEB2=$BROOT/src/out/rcptdir_${V2}_$ARCH.deb
cp "$DEB2" "$ROOT/tmp/pkg/"
# --force-confold answers dpkg's question as apt -o Dpkg::Options::=--force-confold does
if in_root dpkg --force-confold -i "/tmp/pkg/${DEB2##*/}" </dev/null >"$T/upgrade.out" 2>&1; then
    ok "upgrade $V1 -> $V2: dpkg --force-confold -i succeeds"
else
    fail_log "upgrade $V1 -> $V2: dpkg --force-confold -i succeeds" "$T/upgrade.out"
fi
check_eq "  ... installed version $V2" "$V2 install ok installed" \
    "$(in_root dpkg-query -W -f='${Version} ${Status}' rcptdir)"
check "  ... dpkg saw the conffile changed by both" grep -q "Modified (by you" "$T/upgrade.out"
check "  ... the locally edited conffile is kept" cmp -s "$T/conf-edited" "$ROOT$CONF"
check_eq "  ... the package's new version beside it, rcptdir.conf.dpkg-dist" \
    "rcptdir.conf rcptdir.conf.dpkg-dist $NEWLINE" \
    "$(cd "$ROOT/etc/rcptdir" && echo *) $(tail -n 1 "$ROOT$CONF.dpkg-dist" 2>/dev/null)"
check_eq "  ... the same rcptdir user" "$pw" "$(in_root getent passwd rcptdir)"
as_rcptdir rcptdir-lookupd -c "$CONF" -q A@example.org >"$T/q.out" 2>&1
check_eq "  ... the store answers as before: A@example.org valid, $gen1" "0 $gen1" \
    "$? $(grep -o '"generation":[0-9]*' "$T/q.out")"
as_rcptdir rcptdir-syncd -c "$CONF" >"$T/sync.out" 2>&1
check_eq "  ... and syncs again: exit 0" 0 "$?"

# ---------------------------------------------------------------- remove, purge
if in_root dpkg -r rcptdir >"$T/remove.out" 2>&1; then
    ok "dpkg -r rcptdir succeeds"
else
    fail_log "dpkg -r rcptdir succeeds" "$T/remove.out"
fi
check_eq "  ... state config-files, binaries gone" "deinstall ok config-files no" \
    "$(in_root dpkg-query -W -f='${Status}' rcptdir) $(test -e "$ROOT/usr/sbin/rcptdir-syncd" && echo yes || echo no)"
check "  ... the edited conffile is kept" cmp -s "$T/conf-edited" "$ROOT$CONF"
check "  ... the store is kept" test -s "$ROOT/var/lib/rcptdir/data.mdb"
check "  ... the user is kept" has_user

if in_root dpkg -P rcptdir >"$T/purge.out" 2>&1; then
    ok "dpkg -P rcptdir succeeds"
else
    fail_log "dpkg -P rcptdir succeeds" "$T/purge.out"
fi
check_eq "  ... /etc/rcptdir and /var/lib/rcptdir are gone" "" \
    "$(cd "$ROOT" && ls -d etc/rcptdir var/lib/rcptdir 2>/dev/null)"
check_eq "  ... no file belongs to rcptdir" "" \
    "$(in_root find / -xdev -path /proc -prune -o -uid "$uid" -print 2>/dev/null | head -5)"
check "  ... the account stays (Debian's practice), owning nothing" has_user
check_eq "  ... dpkg no longer knows the package" "" "$(in_root dpkg-query -W -f='${Status}' rcptdir 2>/dev/null)"
snapshot "$T/files-after"
# the account's: useradd's backups of the account files it changed; adduser's lock file
diff "$T/files-before" "$T/files-after" | grep '^[<>]' |
    grep -vE '^[<>] (/etc/(passwd|group|shadow|gshadow)-|/run/adduser) ' >"$T/files-diff"
if [ -s "$T/files-diff" ]; then
    not_ok "purge: every file as before the install (but the account's backups)"
    head -n 20 "$T/files-diff" | sed 's/^/#   /'
else
    ok "purge: every file as before the install (but the account's backups; $(wc -l <"$T/files-after") paths compared)"
fi

# ---------------------------------------------------------------- the systemd-sysusers way
# (apt needs adduser: it stays; the postinst asks systemd-sysusers first)
in_root userdel rcptdir >/dev/null 2>&1
in_root groupdel rcptdir >/dev/null 2>&1
if apt_root install systemd-standalone-sysusers; then
    if in_root dpkg -i "/tmp/pkg/${DEB2##*/}" >"$T/install2.out" 2>&1; then
        ok "with systemd-sysusers (systemd-standalone-sysusers): dpkg -i succeeds"
    else
        fail_log "with systemd-sysusers (systemd-standalone-sysusers): dpkg -i succeeds" "$T/install2.out"
    fi
    check_eq "  ... systemd-sysusers made rcptdir from the sysusers file (no ,,, of adduser)" \
        "rcptdir recipient directory:/var/lib/rcptdir:/usr/sbin/nologin" \
        "$(in_root getent passwd rcptdir | cut -d: -f5-)"
    check_eq "  ... /var/lib/rcptdir: rcptdir:rcptdir 750" "rcptdir:rcptdir 750" \
        "$(in_root stat -c '%U:%G %a' /var/lib/rcptdir 2>&1)"
    in_root dpkg -P rcptdir >"$T/purge2.out" 2>&1
    check_eq "  ... and purged: exit 0, /var/lib/rcptdir and /etc/rcptdir gone" "0 " \
        "$? $(cd "$ROOT" && ls -d etc/rcptdir var/lib/rcptdir 2>/dev/null)"
else
    not_ok "with systemd-sysusers: apt-get install systemd-standalone-sysusers"
    tail -n 10 "$T/apt.out" | sed 's/^/#   /'
fi
echo "# install, upgrade, remove, purge in the root: $((SECONDS - t0)) s; deb.sh: $SECONDS s"
done_testing
