#!/usr/bin/python3
"""Tray app benchmarks (scripts/bench-tray.sh runs this inside `xvfb-run dbus-launch`):
cold start to tray ready, a tray click to the switch applied, the app's memory with the
dashboard open and in the tray only, and its idle CPU with 10 idle agents.

    tray_bench.py APP CLI AGENT RUNS IDLE_SECS
with AISWITCH_HOME set to an empty directory. Prints Markdown for BENCHMARKS.md.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from desktop_shell import Shell  # noqa: E402

APP, CLI, AGENT, RUNS, IDLE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
HOME = os.environ["AISWITCH_HOME"]
shell = Shell(CLI)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def row(name, seconds):
    print(f"| {name} | {len(seconds)} | {pct(seconds, 50) * 1e3:.2f} ms | {pct(seconds, 99) * 1e3:.2f} ms |")


def daemon_pid():
    try:
        with open(os.path.join(HOME, "run/daemon.lock")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def tree(pid):
    """`pid` and its descendants, without the daemon the app started (it is not the
    app's: it owns the agents and outlives the app)."""
    skip = daemon_pid()
    pids, children = [pid], {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except OSError:
                pass
    i = 0
    while i < len(pids):
        pids.extend(c for c in children.get(pids[i], []) if c != skip)
        i += 1
    return pids


def summed_kib(pid, path, field):
    """A `field:` line in `/proc/P/{path}`, summed over `pid`'s tree (KiB)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/{path}") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith(field + ":"))
        except (OSError, StopIteration):
            pass
    return total


def rss_mib(pid):
    return summed_kib(pid, "status", "VmRSS") / 1024


def pss_mib(pid):
    """Proportional set size: shared pages (GTK and WebKit's libraries, mapped by the
    window and its web processes alike) counted once across the processes."""
    return summed_kib(pid, "smaps_rollup", "Pss") / 1024


def cpu_ticks(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


for p in ["one", "two"]:
    shell.cli("add", p, "--kind", "anthropic", "--model", "m")
manifest = os.path.join(HOME, "ref.toml")
with open(manifest, "w") as f:
    f.write(f'id = "ref"\nname = "ref"\ncommand = "{AGENT}"\ndriver = "acp"\n[inject.anthropic]\n')
shell.cli("agents", "register", manifest)
shell.cli("env", "switch", "ref", "one")

# Cold start to tray ready (the daemon runs already after the first start).
starts = []
for i in range(5):
    starts.append(shell.launch(APP))
    shell.pump(0.5)
    shell.stop()
    shell.pump(0.3)
print("| benchmark | runs | p50 | p99 |\n|---|---|---|---|")
row("cold start to tray ready (`aiswitch-desktop` → its StatusNotifierItem registered)", starts)

# A tray click to the switch applied (the agent's active.toml names the preset).
shell.launch(APP)
shell.wait("the menu", lambda: shell.checked(["Provider", "ref", "one"]), 10)
active = os.path.join(HOME, "data/env/ref/active.toml")
clicks = []
for i in range(RUNS):
    preset = "two" if i % 2 == 0 else "one"
    shell.wait("the menu settles", lambda: shell.find(["Provider", "ref", preset]), 5)
    # The panel has the menu (it read it to show it): the click alone is timed.
    item = shell.find(["Provider", "ref", preset])[0]
    start = time.monotonic()
    shell.click_item(item)
    while f'preset = "{preset}"' not in open(active).read():
        if time.monotonic() - start > 5:
            shell.fail(f"switch to {preset} not applied")
        time.sleep(0.0002)
    clicks.append(time.monotonic() - start)
    shell.pump(0.02)
row("tray click (D-Bus `Event clicked`) → switch applied on disk", clicks)

# Memory: dashboard open (the window process and WebKit's), then the tray only.
shell.wait("the dashboard's webview", shell.has_webview, 10)
shell.pump(2)
open_mib, open_pss = rss_mib(shell.app.pid), pss_mib(shell.app.pid)
shell.stop()
shell.pump(0.5)
shell.launch(APP, "--tray")
shell.pump(2)
tray_mib, tray_pss = rss_mib(shell.app.pid), pss_mib(shell.app.pid)
print(f"\nRSS of the app's processes: {open_mib:.1f} MiB with the dashboard open, "
      f"{tray_mib:.1f} MiB in the tray only (PSS: {open_pss:.1f} MiB and {tray_pss:.1f} MiB)")

# Idle CPU with 10 idle agents in the daemon.
for i in range(10):
    m = os.path.join(HOME, f"idle{i}.toml")
    with open(m, "w") as f:
        f.write(f'id = "idle{i}"\nname = "idle{i}"\ncommand = "{AGENT}"\ndriver = "acp"\n[inject.anthropic]\n')
    shell.cli("agents", "register", m)
    shell.cli("agents", "start", f"idle{i}", "--preset", "one")
shell.pump(3)
t0, w0 = cpu_ticks(shell.app.pid), time.monotonic()
shell.pump(IDLE)
used = (cpu_ticks(shell.app.pid) - t0) / 100
wall = time.monotonic() - w0
print(f"app CPU (tray only) with 10 idle agents over {IDLE} s: {100 * used / wall:.3f} % of a core "
      f"({used:.2f} s)")
shell.stop()
