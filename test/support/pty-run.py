"""Runs a command under a real pseudo-terminal (stdin, stdout and stderr are the pty).

Usage: python3 pty-run.py '<argv as JSON>' '<prompt to wait for, or "" to type nothing>' '<answer, or "" for none>'
When the prompt appears, types the answer and Enter (or, for an empty answer, Ctrl-D).
The terminal is 120 columns by 40 rows, as a real one has a size.
Prints {"code": <exit code>, "output": <everything the terminal showed>} as JSON.
"""
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios

argv = json.loads(sys.argv[1])
prompt = sys.argv[2].encode()
answer = sys.argv[3]

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.execvp(argv[0], argv)

out = b""
typed = False
while True:
    ready, _, _ = select.select([fd], [], [], 300)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        break
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not data:
        break
    out += data
    if prompt and not typed and prompt in out:
        os.write(fd, (answer + "\r").encode() if answer else b"\x04")
        typed = True

_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace")}))
