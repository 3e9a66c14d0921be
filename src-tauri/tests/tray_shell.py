#!/usr/bin/python3
"""The tray test's scenario, as a user and a desktop panel see it (desktop_shell.py).

Run by tests/tray_dbus.rs inside `xvfb-run dbus-launch`:
    tray_shell.py APP CLI WORK MENU_OUT
with AISWITCH_HOME and HOME set. Exits 0 when every check holds; says which failed.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from desktop_shell import Shell  # noqa: E402

APP, CLI, WORK, MENU_OUT = sys.argv[1:5]
shell = Shell(CLI)
# In the tray only, as at login: no dashboard, no webview.
shell.launch(APP, "--tray")
if shell.has_webview():
    shell.fail("a tray-only start runs no webview")

# The Provider submenu lists the reference agent's presets, the active one checked.
shell.wait("the Provider menu shows ref with preset one checked",
           lambda: shell.checked(["Provider", "ref", "one"]), 10)
if shell.checked(["Provider", "ref", "two"]):
    shell.fail("two is checked but one is active")

# A click on "two", as a panel sends it, switches the agent: a separate CLI sees it.
shell.click(["Provider", "ref", "two"])
shell.wait("aiswitch env show ref says two after the click",
           lambda: shell.json("env", "show", "ref")["preset"] == "two", 10)
shell.wait("the menu checks two after the click",
           lambda: shell.checked(["Provider", "ref", "two"]), 5)

# Changes made by the CLI reach the menu within a second.
shell.cli("add", "three", "--kind", "anthropic", "--model", "m3")
took = shell.wait("preset three, added by the CLI, appears under ref",
                  lambda: shell.find(["Provider", "ref", "three"]), 1)
print(f"added preset in the menu after {took * 1000:.0f} ms")
shell.cli("env", "switch", "ref", "one")
took = shell.wait("the CLI's switch back to one is checked",
                  lambda: shell.checked(["Provider", "ref", "one"])
                  and not shell.checked(["Provider", "ref", "two"]), 1)
print(f"CLI switch in the menu after {took * 1000:.0f} ms")

# A left click on the icon opens the dashboard; when its window goes away the app
# stays in the tray, and WebKit's processes are gone.
shell.activate()
shell.wait("the dashboard opens on a left click", shell.has_webview, 10)
for window in shell.window_pids():
    subprocess.run(["kill", str(window)], check=True)
shell.wait("no webview once the window is gone", lambda: not shell.has_webview(), 10)
if shell.app.poll() is not None or shell.app_item() != (shell.sender, shell.item_path):
    shell.fail("the app stays in the tray when its window goes away")
print("a left click opened the dashboard; the app stayed in the tray without it")

# The daemon dies: the app starts it again and resumes its events where it left off.
daemon = open(os.path.join(os.environ["AISWITCH_HOME"], "run/daemon.lock")).read().strip()
subprocess.run(["kill", "-9", daemon], check=True)
shell.cli("add", "four", "--kind", "anthropic", "--model", "m4")
took = shell.wait("preset four, added while the daemon was down, appears under ref",
                  lambda: shell.find(["Provider", "ref", "four"]), 10)
print(f"after the daemon was killed, the menu caught up in {took * 1000:.0f} ms")
shell.wait("a new daemon runs", lambda: open(os.path.join(
    os.environ["AISWITCH_HOME"], "run/daemon.lock")).read().strip() not in ("", daemon), 10)

# A crashing agent gives exactly one notification.
shell.cli("agents", "start", "crashy", "--preset", "one")
pid = shell.json("agents", "status")["agents"][0]["pid"]
subprocess.run(["kill", "-9", str(pid)], check=True)
shell.wait("a notification that crashy crashed", lambda: shell.titled("Agent crashed"), 10)
shell.pump(0.5)
if len(shell.titled("Agent crashed")) != 1:
    shell.fail(f"one crash notification, not {shell.titled('Agent crashed')}")

# Clicking the notification opens the dashboard.
shell.click_notification("Agent crashed")
shell.wait("the dashboard opens on a click on the notification", shell.has_webview, 10)

# A second launch exits at once and leaves the first (its tray item stays).
second = subprocess.run([APP], capture_output=True, timeout=20)
if second.returncode != 0:
    shell.fail(f"a second launch exits 0, not {second.returncode}")
shell.pump(0.2)
if shell.app_item() != (shell.sender, shell.item_path) or shell.app.poll() is not None:
    shell.fail("the first app is still running with its tray item")
print("a second launch exited and left the first")

# A budget threshold gives exactly one notification.
shell.cli("budget", "set", "--period", "day", "--limit-tokens", "30", "--thresholds", "50")
shell.cli("apply", "one", "--agents", "ref", "--task", "hello", "--workdir", WORK)
shell.wait("a notification that the budget threshold was crossed",
           lambda: shell.titled("Budget alert"), 10)
shell.pump(0.5)
if len(shell.titled("Budget alert")) != 1:
    shell.fail(f"one budget notification, not {shell.titled('Budget alert')}")

# Paused from the tray: a failed task raises its alert, and nothing is shown.
shell.click(["Pause notifications", "For 1 hour"])
shell.wait("the tray says notifications are paused",
           lambda: shell.find(["Pause notifications", "Resume"]), 5)
before = len(shell.shown)
subprocess.run([CLI, "apply", "one", "--agents", "broken", "--task", "x", "--workdir", WORK],
               capture_output=True)
shell.wait("the failed task's alert",
           lambda: any(a["kind"] == "task_failed" for a in shell.json("alerts", "list")["alerts"]), 10)
shell.pump(0.5)
if len(shell.shown) != before:
    shell.fail(f"nothing while paused, but got {shell.shown[before:]}")
print(f"{len(shell.shown)} notifications in all, none while paused")

# "Install command-line tool" links a working aiswitch into ~/.local/bin.
shell.click(["Install command-line tool"])
linked = os.path.join(os.environ["HOME"], ".local/bin/aiswitch")


def installed_version():
    return os.path.exists(linked) and subprocess.run(
        [linked, "--version"], capture_output=True, text=True).stdout.strip()


shell.wait("the installed aiswitch answers --version", installed_version, 5)
print(f"installed: {installed_version()}")
shell.wait("the tray says where it went and that it is not on PATH",
           lambda: shell.find(["aiswitch installed as " + linked + "; "]), 5)

# "Start at login" writes an XDG autostart entry that starts the app in the tray.
entry = os.path.join(os.environ["HOME"], ".config/autostart/aiswitch.desktop")
shell.click(["Start at login"])
shell.wait("the autostart entry starts the app with --tray",
           lambda: os.path.exists(entry) and "--tray" in open(entry).read(), 5)
shell.wait("Start at login is checked", lambda: shell.checked(["Start at login"]), 5)
shell.click(["Start at login"])
shell.wait("the autostart entry is gone", lambda: not os.path.exists(entry), 5)
shell.wait("Start at login is unchecked", lambda: not shell.checked(["Start at login"]), 5)

with open(MENU_OUT, "w") as out:
    out.write(shell.menu_text() + "\n")
print(shell.menu_text())
shell.stop()
print("OK")
