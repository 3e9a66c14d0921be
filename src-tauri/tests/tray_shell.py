#!/usr/bin/python3
"""A desktop shell for the tray test: owns org.kde.StatusNotifierWatcher and
org.freedesktop.Notifications on the session bus, starts the app, reads and clicks its
tray menu over com.canonical.dbusmenu as a panel does, and records every notification.

Run by tests/tray_dbus.rs inside `xvfb-run dbus-launch`:
    tray_shell.py APP CLI MENU_OUT
with AISWITCH_HOME set. Exits 0 when every check holds; says which failed otherwise.
"""

import json
import os
import subprocess
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

WATCHER = """<node><interface name="org.kde.StatusNotifierWatcher">
<method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
<signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
<signal name="StatusNotifierHostRegistered"/>
</interface></node>"""

NOTIFICATIONS = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
<arg type="u" direction="out"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
<signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>"""

APP, CLI, WORK, MENU_OUT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
items = []  # (sender, object path)
shown = []  # (title, body) of every notification


def on_call(conn, sender, path, iface, method, params, invocation):
    if method == "RegisterStatusNotifierItem":
        items.append((sender, params.unpack()[0]))
    invocation.return_value(None)


def on_property(conn, sender, path, iface, name):
    if name == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", [s + p for s, p in items])
    if name == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    return GLib.Variant("i", 0)


def on_notify(conn, sender, path, iface, method, params, invocation):
    if method == "Notify":
        args = params.unpack()
        shown.append((args[3], args[4]))
        print(f"notification: {args[3]}: {args[4]}")
        invocation.return_value(GLib.Variant("(u)", (len(shown),)))
    elif method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["body"],)))
    elif method == "GetServerInformation":
        invocation.return_value(GLib.Variant("(ssss)", ("test-shell", "aiswitch", "1", "1.2")))
    else:
        invocation.return_value(None)


node = Gio.DBusNodeInfo.new_for_xml(WATCHER)
bus.register_object("/StatusNotifierWatcher", node.interfaces[0], on_call, on_property, None)
Gio.bus_own_name_on_connection(bus, "org.kde.StatusNotifierWatcher", 0, None, None)
node = Gio.DBusNodeInfo.new_for_xml(NOTIFICATIONS)
bus.register_object("/org/freedesktop/Notifications", node.interfaces[0], on_notify, None, None)
Gio.bus_own_name_on_connection(bus, "org.freedesktop.Notifications", 0, None, None)


def pump(seconds):
    """Serves D-Bus for a while."""
    end = time.monotonic() + seconds
    context = GLib.MainContext.default()
    while time.monotonic() < end:
        while context.pending():
            context.iteration(False)
        time.sleep(0.01)


def wait(what, check, deadline):
    """Serves D-Bus until `check()` is true; fails the test at the deadline."""
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            value = check()
        except (GLib.Error, subprocess.CalledProcessError):
            value = None
        if value:
            return time.monotonic() - start
        pump(0.02)
    fail(f"{what}: not within {deadline} s")


def fail(message):
    print(f"FAIL {message}")
    print(menu_text())
    app.kill()
    sys.exit(1)


def call(dest, path, iface, method, args, reply):
    return bus.call_sync(dest, path, iface, method, args, GLib.VariantType(reply), 0, 5000, None).unpack()


def cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, check=True).stdout


app = subprocess.Popen([APP], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def app_item():
    for sender, path in items:
        pid = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "GetConnectionUnixProcessID", GLib.Variant("(s)", (sender,)), "(u)")[0]
        if pid == app.pid:
            return sender, path
    return None


wait("the app registers its tray item", app_item, 20)
sender, item_path = app_item()
menu_path = call(sender, item_path, "org.freedesktop.DBus.Properties", "Get",
                 GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", "Menu")), "(v)")[0]


def layout():
    return call(sender, menu_path, "com.canonical.dbusmenu", "GetLayout",
                GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))")[1]


def label(props):
    return props.get("label", "").replace("_", "")


def lines(node, depth=0):
    _, props, children = node
    out = []
    if depth > 0:
        if props.get("type") == "separator":
            text = "---"
        else:
            text = label(props)
            if props.get("toggle-type") == "checkmark":
                text = ("[x] " if props.get("toggle-state") == 1 else "[ ] ") + text
            if props.get("enabled") is False:
                text = f"({text})"
        out.append("  " * (depth - 1) + text)
    for child in children:
        out.extend(lines(child, depth + 1))
    return out


def menu_text():
    try:
        return "\n".join(lines(layout()))
    except GLib.Error as e:
        return f"(no menu: {e.message})"


def find(path):
    """The node at a path of labels (a label may be a prefix)."""
    node = layout()
    for wanted in path:
        node = next((c for c in node[2] if label(c[1]).startswith(wanted)), None)
        if node is None:
            return None
    return node


def checked(agent_label, preset):
    node = find(["Provider", agent_label, preset])
    return node is not None and node[1].get("toggle-state") == 1


def env_preset():
    return json.loads(cli("env", "show", "ref", "--json"))["preset"]


def titled(title):
    return [body for t, body in shown if t == title]


def click(path):
    """Clicks the item at `path`. A panel re-reads a menu the app replaced
    (LayoutUpdated) before a click lands: so does this, twice at most."""
    for attempt in range(3):
        node = find(path)
        if node is None:
            fail(f"no menu item {path}")
        try:
            bus.call_sync(sender, menu_path, "com.canonical.dbusmenu", "Event",
                          GLib.Variant("(isvu)", (node[0], "clicked", GLib.Variant("i", 0), 0)),
                          None, 0, 5000, None)
            return
        except GLib.Error as e:
            if "does not refer to a menu item" not in e.message or attempt == 2:
                raise
            pump(0.05)


def alerts():
    return json.loads(cli("alerts", "list", "--json"))["alerts"]


# A second launch exits at once and leaves the first (its tray item stays).
second = subprocess.run([APP], capture_output=True, timeout=20)
if second.returncode != 0:
    fail(f"a second launch exits 0, not {second.returncode}")
pump(0.2)
if app_item() != (sender, item_path) or app.poll() is not None:
    fail("the first app is still running with its tray item")
print("a second launch exited and left the first")

# The Provider submenu lists the reference agent's presets, the active one checked.
wait("the Provider menu shows ref with preset one checked", lambda: checked("ref", "one"), 10)
if checked("ref", "two"):
    fail("two is checked but one is active")

# A click on "two", as a panel sends it, switches the agent: a separate CLI sees it.
click(["Provider", "ref", "two"])
wait("aiswitch env show ref says two after the click", lambda: env_preset() == "two", 10)
wait("the menu checks two after the click", lambda: checked("ref", "two"), 5)

# Changes made by the CLI reach the menu within a second.
cli("add", "three", "--kind", "anthropic", "--model", "m3")
took = wait("preset three, added by the CLI, appears under ref", lambda: find(["Provider", "ref", "three"]), 1)
print(f"added preset in the menu after {took * 1000:.0f} ms")
cli("env", "switch", "ref", "one")
took = wait("the CLI's switch back to one is checked", lambda: checked("ref", "one") and not checked("ref", "two"), 1)
print(f"CLI switch in the menu after {took * 1000:.0f} ms")

# A crashing agent gives exactly one notification.
cli("agents", "start", "crashy", "--preset", "one")
pid = json.loads(cli("agents", "status", "--json"))["agents"][0]["pid"]
subprocess.run(["kill", "-9", str(pid)], check=True)
wait("a notification that crashy crashed", lambda: titled("Agent crashed"), 10)
pump(0.5)
if len(titled("Agent crashed")) != 1:
    fail(f"one crash notification, not {titled('Agent crashed')}")

# A budget threshold gives exactly one notification.
cli("budget", "set", "--period", "day", "--limit-tokens", "30", "--thresholds", "50")
cli("apply", "one", "--agents", "ref", "--task", "hello", "--workdir", WORK)
wait("a notification that the budget threshold was crossed", lambda: titled("Budget alert"), 10)
pump(0.5)
if len(titled("Budget alert")) != 1:
    fail(f"one budget notification, not {titled('Budget alert')}")

# Paused from the tray: a failed task raises its alert, and nothing is shown.
click(["Pause notifications", "For 1 hour"])
wait("the tray says notifications are paused",
     lambda: find(["Pause notifications", "Resume"]), 5)
before = len(shown)
subprocess.run([CLI, "apply", "one", "--agents", "broken", "--task", "x", "--workdir", WORK],
               capture_output=True)
wait("the failed task's alert", lambda: any(a["kind"] == "task_failed" for a in alerts()), 10)
pump(0.5)
if len(shown) != before:
    fail(f"nothing while paused, but got {shown[before:]}")
print(f"{len(shown)} notifications in all, none while paused")

# "Install command-line tool" links a working aiswitch into ~/.local/bin.
click(["Install command-line tool"])
linked = os.path.join(os.environ["HOME"], ".local/bin/aiswitch")
wait("the installed aiswitch answers --version",
     lambda: os.path.exists(linked) and subprocess.run(
         [linked, "--version"], capture_output=True, text=True).stdout.strip(), 5)
version = subprocess.run([linked, "--version"], capture_output=True, text=True).stdout.strip()
print(f"installed: {version}")
wait("the tray says where it went and that it is not on PATH",
     lambda: find(["aiswitch installed as " + linked + "; "]), 5)

with open(MENU_OUT, "w") as out:
    out.write(menu_text() + "\n")
print(menu_text())
app.terminate()
app.wait(10)
print("OK")
