"""Small files on the board's flash that survive a power cut at any moment.

`write` puts the new text in `path.tmp`, then renames it over `path`: LittleFS (the ESP32 default)
renames atomically, so `path` holds either the old or the new text, whole. FAT cannot rename over an
existing file: there the old file is removed first and `read` falls back to the `.tmp` file.
"""

import os


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    try:
        os.rename(tmp, path)
    except OSError:
        remove(path)
        os.rename(tmp, path)


def read(path):
    """The text of `path` (or of the `.tmp` a power cut left instead of it); None when neither exists."""
    for name in (path, path + ".tmp"):
        try:
            with open(name) as f:
                return f.read()
        except OSError:
            pass
    return None


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass
