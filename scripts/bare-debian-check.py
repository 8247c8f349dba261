#!/usr/bin/env python3
"""Rehearses on this machine, without a Docker engine, two things CI cannot show: a new Debian 12
machine, and the container image the Dockerfile builds.

    scripts/bare-debian-check.py [--skip-ci]

It builds bare Debian 12 root file systems with debootstrap (--variant=minbase, about what
debian:bookworm-slim holds) and works in them with chroot, inside a private mount namespace that
takes every mount with it when it ends:

  1. a new machine: the bare system, only the Debian packages the Swift toolchain itself needs
     (swift.org's list for Debian 12, which the swift:6.3-bookworm image holds too), this machine's
     toolchain mounted read-only, a clean clone of HEAD, then `.ci/run`. Every other package has to
     come from the project's own scripts. --skip-ci leaves this part out.
  2. the Dockerfile, instruction by instruction: FROM swift:* is a fresh copy of that same root,
     FROM debian:bookworm-slim a fresh bare one; ARG, WORKDIR, COPY (also --from a stage), RUN, ENV
     and USER as Docker does them. Then the image runs as `docker run` would start it: its CMD as
     its USER, stdout and stderr owned by that user (as runc arranges), its HEALTHCHECK polled,
     against a throwaway PostgreSQL 15 on 127.0.0.1, once per deployment mode. Signed fixtures go
     through nginx, the outcomes and the row they leave are checked, and after SIGTERM nothing of
     the container may still run. Last, the README's one-off `docker run ... clerk-sync migrate`,
     `prune` and `status`.

Needs root, debootstrap (installed when missing) and Debian's mirror; about five minutes; Ctrl-C
stops it cleanly. Not part of .ci/run: it needs root, mounts and a download of Debian.
"""

import fnmatch
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIRROR = "http://deb.debian.org/debian"
# What the Swift toolchain needs from Debian 12 (swift.org's installation instructions).
SWIFT_PACKAGES = (
    "binutils-gold libicu-dev libcurl4-openssl-dev libedit-dev libsqlite3-dev libncurses-dev "
    "libpython3-dev libxml2-dev pkg-config uuid-dev tzdata git gcc libstdc++-12-dev ca-certificates"
).split()
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class CheckFailed(Exception):
    pass


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(arguments, **options):
    return subprocess.run(arguments, check=True, **options)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mounts_under(path):
    prefix = path.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as table:
        return [line.split()[4] for line in table if line.split()[4].startswith(prefix)]


# --- root file systems -------------------------------------------------------------------------


class Toolchain:
    """This machine's Swift toolchain, and the local mirrors git rewrites GitHub URLs to."""

    def __init__(self):
        swift = shutil.which("swift")
        if not swift:
            raise CheckFailed("no swift on PATH: the check mounts this machine's toolchain")
        self.bin = os.path.dirname(os.path.realpath(swift))  # .../usr/bin
        self.root = os.path.dirname(os.path.dirname(self.bin))
        rewrites = subprocess.run(
            ["git", "config", "--system", "--get-regexp", r"^url\..*\.insteadof$"],
            capture_output=True, text=True).stdout.split("\n")
        self.rewrites = []  # (local directory, URL prefix it stands for)
        for line in filter(None, rewrites):
            key, _, prefix = line.partition(" ")
            base = key[len("url."):-len(".insteadof")]
            if base.startswith("/") and os.path.isdir(base):
                self.rewrites.append((base, prefix))


def mount_system(root, toolchain=None):
    """/proc, /sys and /dev for a chroot, and the toolchain read-only (all gone with the namespace)."""
    run(["mount", "-t", "proc", "proc", f"{root}/proc"])
    for path in ("/sys", "/dev"):
        run(["mount", "--rbind", path, f"{root}{path}"])
    shutil.copy("/etc/resolv.conf", f"{root}/etc/resolv.conf")
    if toolchain:
        for path in [toolchain.root] + sorted({base for base, _ in toolchain.rewrites}):
            os.makedirs(f"{root}{path}", exist_ok=True)
            run(["mount", "--bind", path, f"{root}{path}"])
            run(["mount", "-o", "remount,bind,ro", f"{root}{path}"])
        with open(f"{root}/etc/gitconfig", "a") as config:
            for base, prefix in toolchain.rewrites:
                config.write(f'[url "{base}"]\n\tinsteadOf = {prefix}\n')


def copy_root(source, target):
    run(["cp", "-a", source, target])


# --- the Dockerfile ----------------------------------------------------------------------------


def instructions(path):
    """(keyword, argument text) per instruction: comments dropped, continuation lines joined."""
    result, pending = [], ""
    with open(path) as dockerfile:
        for line in dockerfile:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue  # also inside a continued instruction, as Docker reads it
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            text = (pending + stripped).strip()
            pending = ""
            keyword, _, rest = text.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


class Stage:
    def __init__(self, root, swift):
        self.root, self.swift = root, swift
        self.workdir, self.user, self.env = "/", "root", {}
        self.cmd, self.healthcheck = None, None

    def ids(self):
        """The USER's uid, gid and home directory, from the image's own /etc/passwd."""
        with open(f"{self.root}/etc/passwd") as passwd:
            for line in passwd:
                fields = line.split(":")
                if self.user in (fields[0], fields[2]):
                    return int(fields[2]), int(fields[3]), fields[5]
        raise CheckFailed(f"USER {self.user}: not in the image's /etc/passwd")

    def environment(self):
        path = DEFAULT_PATH
        if self.swift:
            path = f"{self.swift.bin}:{path}"
        return {"PATH": path, "HOME": "/root", **self.env}


def substitute(text, variables):
    for name, value in variables.items():
        text = text.replace("${" + name + "}", value).replace("$" + name, value)
    return text


def copy_into(stage, source, destination, many):
    if not destination.startswith("/"):
        destination = os.path.join(stage.workdir, destination)
    target = stage.root + destination
    if os.path.isdir(source):
        run(["mkdir", "-p", target])
        run(["cp", "-a", "--no-preserve=ownership", source.rstrip("/") + "/.", target])
        return
    if destination.endswith("/") or many or os.path.isdir(target):
        run(["mkdir", "-p", target])
        target = os.path.join(target, os.path.basename(source))
    else:
        run(["mkdir", "-p", os.path.dirname(target)])
    run(["cp", "-a", "--no-preserve=ownership", source, target])


def build_image(dockerfile, context, base, swift_image, toolchain, work):
    """Runs the Dockerfile's instructions; returns the last stage."""
    arguments, stages, stage = {}, {}, None
    for number, (keyword, rest) in enumerate(instructions(dockerfile)):
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            arguments[name] = default
        elif keyword == "FROM":
            words = substitute(rest, arguments).split()
            image = words[0]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            root = f"{work}/stage-{number}"
            if image.startswith("swift:") and image.endswith("-bookworm"):
                copy_root(swift_image, root)
                stage = Stage(root, toolchain)
            elif image in ("debian:bookworm-slim", "debian:bookworm", "debian:12-slim", "debian:12"):
                copy_root(base, root)
                stage = Stage(root, None)
            else:
                raise CheckFailed(f"FROM {image}: no bare stand-in for that image")
            mount_system(root, stage.swift)
            stages[name] = stage
            log(f"FROM {image} (stage {name})")
        elif keyword == "WORKDIR":
            stage.workdir = os.path.join(stage.workdir, rest)
            os.makedirs(stage.root + stage.workdir, exist_ok=True)
        elif keyword == "COPY":
            words = shlex.split(rest)
            origin = context
            while words[0].startswith("--"):
                flag = words.pop(0)
                if not flag.startswith("--from="):
                    raise CheckFailed(f"COPY {flag}: not rehearsed")
                origin = stages[flag[len("--from="):]].root
            *sources, destination = words
            for source in sources:
                copy_into(stage, os.path.join(origin, source.lstrip("/")), destination, len(sources) > 1)
        elif keyword == "RUN":
            log(f"RUN {rest[:100]}")
            uid, gid, _ = stage.ids()
            run(["chroot", f"--userspec={uid}:{gid}", stage.root, "/bin/sh", "-c",
                 'cd "$1" || exit 1; shift; eval "$1"', "sh", stage.workdir, rest],
                env=stage.environment())
        elif keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                stage.env[name] = value
        elif keyword == "USER":
            stage.user = rest
        elif keyword == "CMD":
            stage.cmd = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
        elif keyword == "HEALTHCHECK":
            stage.healthcheck = rest[rest.index("CMD ") + 4:]
        elif keyword != "EXPOSE":
            raise CheckFailed(f"{keyword}: not rehearsed")
    return stage


def build_context(work):
    """A clean clone of HEAD, less what .dockerignore leaves out."""
    clone = f"{work}/context"
    run(["git", "clone", "-q", ROOT, clone])
    patterns = []
    if os.path.exists(f"{clone}/.dockerignore"):
        with open(f"{clone}/.dockerignore") as ignore:
            patterns = [line.strip().rstrip("/") for line in ignore if line.strip() and not line.startswith("#")]
    for entry in os.listdir(clone):
        if any(fnmatch.fnmatch(entry, pattern) for pattern in patterns):
            path = f"{clone}/{entry}"
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    return clone


# --- running the image -------------------------------------------------------------------------


class Database:
    """A throwaway PostgreSQL 15 from this machine's packages, as nobody, on 127.0.0.1."""

    def __init__(self, work):
        self.directory = f"{work}/postgres"
        self.port = free_port()
        os.makedirs(self.directory)
        shutil.chown(self.directory, "nobody", "nogroup")
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        binaries = "/usr/lib/postgresql/15/bin"
        run(as_nobody + [f"{binaries}/initdb", "-A", "trust", "-U", "postgres", "-D", f"{self.directory}/data"],
            stdout=subprocess.DEVNULL)
        self.server = subprocess.Popen(
            as_nobody + [f"{binaries}/postgres", "-D", f"{self.directory}/data", "-k", self.directory,
                         "-p", str(self.port), "-c", "listen_addresses=127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=open(f"{self.directory}/server.log", "w"), start_new_session=True)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        for _ in range(100):
            if subprocess.run(["pg_isready", "-q", "-d", self.url]).returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        with open(f"{self.directory}/server.log") as server_log:
            raise CheckFailed(f"PostgreSQL did not start: {server_log.read()[-1000:]}")

    def query(self, sql):
        return run(["psql", "-X", "-At", "-d", self.url, "-c", sql], capture_output=True, text=True).stdout.strip()

    def stop(self):
        self.server.send_signal(signal.SIGINT)
        self.server.wait(timeout=30)


def processes_in(root, below=False):
    """Processes whose root directory is `root` (or, with below, any directory under it)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                path = os.readlink(f"/proc/{entry}/root")
            except OSError:
                continue  # gone, or a zombie
            if path == root or (below and path.startswith(root.rstrip("/") + "/")):
                found.append(int(entry))
    return found


def kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # ended by itself meanwhile


def wait_until(seconds, condition):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def fixture(context, name, user):
    """A shipped fixture with its user id replaced by `user`."""
    with open(f"{context}/fixtures/{name}.json") as file:
        payload = json.load(file)
    payload["data"]["id"] = user
    return payload


def run_image(stage, context, database, work):
    uid, gid, home = stage.ids()
    in_image = ["chroot", f"--userspec={uid}:{gid}", stage.root]
    failures = []
    for mode in ("cgi", "warm", "persistent"):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/functions/v1/clerk-webhook"
        env = {**stage.environment(), "HOME": home, "CLERK_WEBHOOK_MODE": mode,
               "CLERK_WEBHOOK_LISTEN": f"127.0.0.1:{port}", "CLERK_WEBHOOK_SIGNING_SECRET": SECRET,
               "DATABASE_URL": database.url, "CLERK_WEBHOOK_MIGRATE_ON_START": "1"}
        out, err = f"{work}/{mode}.stdout", f"{work}/{mode}.stderr"
        for path in (out, err):
            open(path, "w").close()
            os.chown(path, uid, gid)
        container = subprocess.Popen(
            in_image + stage.cmd, env=env,
            stdin=subprocess.DEVNULL, stdout=open(out, "a"), stderr=open(err, "a"), start_new_session=True)

        def healthy():
            return subprocess.run(in_image + ["/bin/sh", "-c", stage.healthcheck], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

        def fail(message):
            failures.append(f"{mode}: {message}")
            log(f"{mode}: FAILED: {message}")

        clerk_id = f"user_bare_{mode}_{os.getpid()}"
        created = fixture(context, "user.created", clerk_id)
        updated = fixture(context, "user.updated", clerk_id)
        deleted = fixture(context, "user.deleted", clerk_id)
        email = next(address["email_address"] for address in updated["data"]["email_addresses"]
                     if address["id"] == updated["data"]["primary_email_address_id"])
        if not wait_until(20, healthy):
            tail = open(err).read().strip().split("\n")[-3:]
            fail(f"HEALTHCHECK never passed in 20 s ({stage.healthcheck}); the container's stderr ends: {tail}")
        else:
            steps = [("created", created, None, "applied"), ("updated", updated, f"msg_bare_{mode}_upd", "applied"),
                     ("updated again", updated, f"msg_bare_{mode}_upd", "duplicate"),
                     ("deleted", deleted, None, "applied")]
            for label, payload, svix_id, expected in steps:
                with open(f"{stage.root}/tmp/payload.json", "w") as file:
                    json.dump(payload, file)
                command = ["clerk-sync", "send", "/tmp/payload.json", "--url", base_url]
                if svix_id:
                    command += ["--id", svix_id]
                sent = subprocess.run(in_image + command, env=env, capture_output=True, text=True)
                if not sent.stdout.startswith("200 ") or f'"outcome":"{expected}"' not in sent.stdout:
                    fail(f"{label}: expected 200 {expected}, got {sent.stdout.strip()} {sent.stderr.strip()}")
            unsigned = subprocess.run(in_image + ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X",
                                                  "POST", "-d", "{}", base_url], env=env, capture_output=True, text=True)
            if unsigned.stdout != "401":
                fail(f"an unsigned POST answered {unsigned.stdout}, not 401")
            row = database.query(
                f"SELECT email = '{email}', deleted_at IS NOT NULL FROM users WHERE clerk_id = '{clerk_id}'")
            if row != "t|t":
                fail(f"the row is not the updated, deleted user ({row!r})")
            else:
                log(f"{mode}: healthy; created, updated, duplicate, deleted and unsigned answered as expected; row ok")
        container.send_signal(signal.SIGTERM)
        try:
            status = container.wait(timeout=20)
            if status != 0:
                fail(f"CMD exited {status} on SIGTERM")
        except subprocess.TimeoutExpired:
            fail("CMD still running 20 s after SIGTERM")
        if not wait_until(5, lambda: not processes_in(stage.root)):
            left = processes_in(stage.root)
            commands = [open(f"/proc/{pid}/cmdline").read().replace("\0", " ") for pid in left]
            fail(f"still running after SIGTERM: {commands}")
            kill(left)
        logs = open(out).read() + open(err).read()
        if SECRET in logs or email in logs:
            fail("the container's logs contain the signing secret or an email")

    # The README's one-off commands: `docker run --rm -e DATABASE_URL=... IMAGE clerk-sync ...`.
    env = {**stage.environment(), "HOME": home, "DATABASE_URL": database.url}
    for command in (["clerk-sync", "migrate"], ["clerk-sync", "prune"], ["clerk-sync", "status"]):
        one_off = subprocess.run(in_image + command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True)
        if one_off.returncode != 0:
            failures.append(f"{' '.join(command)}: exit {one_off.returncode}: {one_off.stderr.strip()}")
            log(f"FAILED: {failures[-1]}")
        else:
            log(f"{' '.join(command)} in the image: {one_off.stdout.strip().splitlines()[-1:]}")
    return failures


# --- main --------------------------------------------------------------------------------------


def inside(work, skip_ci):
    toolchain = Toolchain()
    base, swift_image = f"{work}/base", f"{work}/swift-image"
    log("debootstrap: a bare Debian 12 (minbase)")
    run(["debootstrap", "--variant=minbase", "bookworm", base, MIRROR], stdout=subprocess.DEVNULL)
    log("the Swift toolchain's own Debian packages")
    copy_root(base, swift_image)
    mount_system(swift_image)
    run(["chroot", swift_image, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
         "apt-get install -y -qq --no-install-recommends " + " ".join(SWIFT_PACKAGES) + " >/dev/null"])
    run(["umount", "-R", f"{swift_image}/proc", f"{swift_image}/sys", f"{swift_image}/dev"])

    if not skip_ci:
        machine = f"{work}/machine"
        copy_root(swift_image, machine)
        mount_system(machine, toolchain)
        run(["git", "clone", "-q", ROOT, f"{machine}/root/clerk-webhook"])
        log(".ci/run on the new machine")
        started = time.monotonic()
        run(["chroot", machine, "/bin/bash", "-c", "cd /root/clerk-webhook && .ci/run"],
            env={"PATH": f"{toolchain.bin}:{DEFAULT_PATH}", "HOME": "/root", "LANG": "C.UTF-8"})
        log(f".ci/run passed on a bare Debian 12 in {time.monotonic() - started:.0f} s")

    context = build_context(work)
    image = build_image(f"{context}/Dockerfile", context, base, swift_image, toolchain, work)
    run(["scripts/install-packages.sh", "test"], cwd=ROOT)  # this machine's PostgreSQL, for the database
    database = Database(work)  # stops itself if it cannot start; stopped below whatever happens
    try:
        failures = run_image(image, context, database, work)
    finally:
        database.stop()
    if failures:
        raise CheckFailed(f"{len(failures)} failures running the image (each logged above)")
    log("the image built and ran: every mode healthy, deliveries applied, nothing left after SIGTERM")


def main():
    skip_ci = "--skip-ci" in sys.argv[1:]
    if os.geteuid() != 0:
        sys.exit("bare-debian-check.py: needs root (debootstrap, chroot, mounts)")
    if len(sys.argv) > 2 and sys.argv[1] == "--inside":
        try:
            inside(sys.argv[2], skip_ci)
        except (CheckFailed, subprocess.CalledProcessError) as error:
            sys.exit(f"bare-debian-check.py: {error}")
        except KeyboardInterrupt:
            print("bare-debian-check.py: interrupted", file=sys.stderr)
            sys.exit(130)
        finally:
            # A failure or Ctrl-C part way: nothing started in a chroot outlives the check.
            kill(processes_in(sys.argv[2], below=True))
        return
    if not shutil.which("debootstrap"):
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "debootstrap"], stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="clerk-webhook-bare.", dir="/var/tmp")
    os.chmod(work, 0o755)
    try:
        inner = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", sys.executable,
                                  os.path.abspath(__file__), "--inside", work] + sys.argv[1:])
        while True:
            try:
                status = inner.wait()
                break
            except KeyboardInterrupt:
                pass  # the check got the same Ctrl-C and is stopping what it started: wait for it
    finally:
        # The mounts lived in the namespace, which is gone; never delete through a live mount.
        if mounts_under(work):
            sys.exit(f"bare-debian-check.py: mounts left under {work}; not removing it")
        shutil.rmtree(work)
    sys.exit(status)


if __name__ == "__main__":
    main()
