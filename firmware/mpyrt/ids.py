"""Message ids unique across reboots and re-flashing: "<boot>.<salt>-<seq>".

The boot counter lives in a flash file and grows at every start; the salt (a few random hex digits
from the board's RNG) keeps ids apart even when that file is lost, e.g. after re-flashing the same
day, when the server still remembers yesterday's ids. Ids use only [0-9a-f.-], at most 64 chars.
"""

from mpyrt import flash


class Ids:
    def __init__(self, path, salt=""):
        boot = 0
        text = flash.read(path)
        if text:
            try:
                boot = int(text.strip())
            except ValueError:
                boot = 0
        self.boot = boot + 1
        try:
            flash.write(path, str(self.boot))
        except OSError:
            pass  # a read-only or full flash: ids stay unique through the salt
        self.prefix = "%d.%s" % (self.boot, salt) if salt else str(self.boot)
        self.seq = 0

    def next(self):
        self.seq += 1
        return "%s-%d" % (self.prefix, self.seq)
