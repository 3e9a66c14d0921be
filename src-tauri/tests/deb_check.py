#!/usr/bin/python3
"""The installed package's app starts to a tray, with the agents it ships.
    deb_check.py APP CLI     (inside `xvfb-run dbus-launch`, AISWITCH_HOME set)"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from desktop_shell import Shell  # noqa: E402

shell = Shell(sys.argv[2])
took = shell.launch(sys.argv[1], "--tray")
shell.wait("the shipped reference agent in the Provider menu",
           lambda: shell.find(["Provider", "aiswitch reference agent"]), 10)
print(f"the installed app reached the tray in {took * 1000:.0f} ms")
print(shell.menu_text())
shell.stop()
print("OK")
