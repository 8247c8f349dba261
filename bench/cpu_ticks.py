#!/usr/bin/env python3
"""CPU time used so far, in clock ticks, by the parts of one benchmark row:
   bench/cpu_ticks.py WORKERS_PID NGINX_PID      (either may be "-")
prints "workers nginx database": the deployment's workers (the process WORKERS_PID and all its
descendants, whatever session they made, plus the children they reaped, such as fcgiwrap's CGI
programs), nginx (NGINX_PID and its workers), and PostgreSQL with PgBouncer (every process of
theirs, plus the backends the postmaster reaped). Reaped children's time counts once, so the
difference of two snapshots is what ran in between."""
import os
import sys


def main():
    roots = {sys.argv[1]: 0, sys.argv[2]: 1}
    processes = {}  # pid: (parent pid, comm, ticks)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # exited meanwhile: its time is in its parent's children's time now
        fields = text[text.rindex(")") + 2:].split()
        # utime, stime, cutime, cstime (proc(5) fields 14-17)
        processes[pid] = (fields[1], text[text.index("(") + 1:text.rindex(")")], sum(int(v) for v in fields[11:15]))

    def part_of(pid):
        comm = processes[pid][1]
        while pid in processes:
            if pid in roots:
                return roots[pid]
            pid = processes[pid][0]
        return 2 if comm.startswith("postgres") or comm == "pgbouncer" else None

    totals = [0, 0, 0]
    for pid, (_, _, ticks) in processes.items():
        part = part_of(pid)
        if part is not None:
            totals[part] += ticks
    print(*totals)


main()
