"""A desktop shell for tests and benchmarks of the tray app, on the session bus: it
owns org.kde.StatusNotifierWatcher and org.freedesktop.Notifications as a panel and a
notification daemon do, starts the app, reads and clicks its tray menu over
com.canonical.dbusmenu, and records every notification.

Needs the system python3 with `gi` (python3-gi), inside `xvfb-run dbus-launch`.
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


class Shell:
    """The panel, the notification daemon, and the app they talk to."""

    def __init__(self, cli):
        self.cli_path = cli
        self.bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        self.items = []  # (sender, object path) of registered tray items
        self.shown = []  # (title, body) of every notification
        self.app = None
        self.sender = self.item_path = self.menu_path = None
        self._serve("/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", WATCHER,
                    self._on_watcher, self._on_watcher_property)
        self._serve("/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                    NOTIFICATIONS, self._on_notify, None)

    def _serve(self, path, name, xml, on_call, on_property):
        node = Gio.DBusNodeInfo.new_for_xml(xml)
        self.bus.register_object(path, node.interfaces[0], on_call, on_property, None)
        Gio.bus_own_name_on_connection(self.bus, name, 0, None, None)

    def _on_watcher(self, conn, sender, path, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            # The item names its object path, or its bus name (then it is at the
            # spec's /StatusNotifierItem), as panels accept both.
            service = params.unpack()[0]
            path = service if service.startswith("/") else "/StatusNotifierItem"
            self.items.append((sender, path))
        invocation.return_value(None)

    def _on_watcher_property(self, conn, sender, path, iface, name):
        if name == "RegisteredStatusNotifierItems":
            return GLib.Variant("as", [s + p for s, p in self.items])
        if name == "IsStatusNotifierHostRegistered":
            return GLib.Variant("b", True)
        return GLib.Variant("i", 0)

    def _on_notify(self, conn, sender, path, iface, method, params, invocation):
        if method == "Notify":
            args = params.unpack()
            self.shown.append((args[3], args[4]))
            print(f"notification: {args[3]}: {args[4]}")
            invocation.return_value(GLib.Variant("(u)", (len(self.shown),)))
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
        elif method == "GetServerInformation":
            invocation.return_value(GLib.Variant("(ssss)", ("test-shell", "aiswitch", "1", "1.2")))
        else:
            invocation.return_value(None)

    # Time and failure.

    def pump(self, seconds):
        """Serves D-Bus for a while."""
        end = time.monotonic() + seconds
        context = GLib.MainContext.default()
        while time.monotonic() < end:
            while context.pending():
                context.iteration(False)
            time.sleep(0.002)

    def wait(self, what, check, deadline):
        """Serves D-Bus until `check()` holds; fails at the deadline. Returns seconds."""
        start = time.monotonic()
        while time.monotonic() - start < deadline:
            try:
                value = check()
            except (GLib.Error, subprocess.CalledProcessError):
                value = None
            if value:
                return time.monotonic() - start
            self.pump(0.005)
        self.fail(f"{what}: not within {deadline} s")

    def fail(self, message):
        print(f"FAIL {message}")
        print(self.menu_text())
        if self.app:
            self.app.kill()
        sys.exit(1)

    # The app and the CLI.

    def call(self, dest, path, iface, method, args, reply):
        return self.bus.call_sync(dest, path, iface, method, args, GLib.VariantType(reply),
                                  0, 5000, None).unpack()

    def cli(self, *args):
        return subprocess.run([self.cli_path, *args], capture_output=True, text=True,
                              check=True).stdout

    def launch(self, app, *args):
        """Starts the app and waits for its tray item; returns seconds to the tray."""
        start = time.monotonic()
        self.app = subprocess.Popen([app, *args], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        self.wait("the app registers its tray item", self.app_item, 30)
        took = time.monotonic() - start
        self.sender, self.item_path = self.app_item()
        self.menu_path = self.call(self.sender, self.item_path, "org.freedesktop.DBus.Properties",
                                   "Get", GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", "Menu")),
                                   "(v)")[0]
        return took

    def app_item(self):
        """The tray item of the running app (items of apps that quit are skipped)."""
        for sender, path in reversed(self.items):
            try:
                pid = self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                GLib.Variant("(s)", (sender,)), "(u)")[0]
            except GLib.Error:
                continue
            if self.app and pid == self.app.pid:
                return sender, path
        return None

    def stop(self):
        if self.app:
            self.app.terminate()
            self.app.wait(10)

    # The menu.

    def layout(self):
        return self.call(self.sender, self.menu_path, "com.canonical.dbusmenu", "GetLayout",
                         GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))")[1]

    def menu_text(self):
        try:
            return "\n".join(_lines(self.layout()))
        except (GLib.Error, TypeError) as e:
            return f"(no menu: {e})"

    def find(self, path):
        """The node at a path of labels (each may be a prefix)."""
        node = self.layout()
        for wanted in path:
            node = next((c for c in node[2] if _label(c[1]).startswith(wanted)), None)
            if node is None:
                return None
        return node

    def checked(self, path):
        node = self.find(path)
        return node is not None and node[1].get("toggle-state") == 1

    def click(self, path):
        """Clicks the item at `path`. A panel re-reads a menu the app replaced
        (LayoutUpdated) before a click lands: so does this, twice at most."""
        for attempt in range(3):
            node = self.find(path)
            if node is None:
                self.fail(f"no menu item {path}")
            try:
                self.click_item(node[0])
                return
            except GLib.Error as e:
                if "does not refer to a menu item" not in e.message or attempt == 2:
                    raise
                self.pump(0.05)

    def click_item(self, item_id):
        """Sends a click on the menu item `item_id`, as a panel does."""
        self.bus.call_sync(self.sender, self.menu_path, "com.canonical.dbusmenu", "Event",
                           GLib.Variant("(isvu)", (item_id, "clicked", GLib.Variant("i", 0), 0)),
                           None, 0, 5000, None)

    def titled(self, title):
        return [body for t, body in self.shown if t == title]

    def click_notification(self, title):
        """Clicks the first notification called `title`, as a notification daemon
        reports it: `ActionInvoked(id, "default")`."""
        nid = next(i for i, (t, _) in enumerate(self.shown, start=1) if t == title)
        self.bus.emit_signal(None, "/org/freedesktop/Notifications",
                             "org.freedesktop.Notifications", "ActionInvoked",
                             GLib.Variant("(us)", (nid, "default")))

    def has_webview(self):
        """Whether a WebKit web process runs under the app (its dashboard is open):
        the tray starts the window process, which starts WebKit's."""
        return any(b"WebKitWebProcess" in command for command in self.descendants())

    def activate(self):
        """A left click on the tray icon, as a panel reports it."""
        self.call(self.sender, self.item_path, "org.kde.StatusNotifierItem", "Activate",
                  GLib.Variant("(ii)", (0, 0)), "()")

    def window_pids(self):
        """The app's dashboard window processes."""
        return [pid for pid, command in self.descendants(with_pids=True)
                if b"--window" in command.split(b"\0")]

    def descendants(self, with_pids=False):
        """The command lines of the app's processes below it, at any depth (with their
        pids when asked)."""
        parents, commands = {}, {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        commands[int(entry)] = f.read()
                except OSError:
                    continue
        found, below = [], {self.app.pid}
        while below:
            children = {pid for pid, parent in parents.items() if parent in below}
            found.extend((pid, commands.get(pid, b"")) if with_pids else commands.get(pid, b"")
                         for pid in children)
            below = children
        return found

    def json(self, *args):
        return json.loads(self.cli(*args, "--json"))


def _label(props):
    return props.get("label", "").replace("_", "")


def _lines(node, depth=0):
    _, props, children = node
    out = []
    if depth > 0:
        if props.get("type") == "separator":
            text = "---"
        else:
            text = _label(props)
            if props.get("toggle-type") == "checkmark":
                text = ("[x] " if props.get("toggle-state") == 1 else "[ ] ") + text
            elif props.get("toggle-type") == "radio":
                text = ("(•) " if props.get("toggle-state") == 1 else "( ) ") + text
            if props.get("enabled") is False:
                text = f"({text})"
        out.append("  " * (depth - 1) + text)
    for child in children:
        out.extend(_lines(child, depth + 1))
    return out
