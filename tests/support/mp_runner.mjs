// Runs one Python script under the MicroPython WebAssembly port, for tests/support/micropython.py.
//
// Usage: node mp_runner.mjs JOB.json
//   JOB = {"script": "...", "files": {"protocols/__init__.py": "...", ...}, "heapsize": bytes}
// The files are written under /app in MicroPython's (Emscripten) filesystem, /app becomes the
// working directory and the first sys.path entry, then the script runs (top-level `await`
// allowed). Its stdout goes to our stdout, its stderr to our stderr. An uncaught Python
// exception prints the traceback on stderr and exits 1; SystemExit(n) exits n.
import { readFileSync } from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const APP_DIR = "/app";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = [];
const err = [];
const mp = await loadMicroPython({
  heapsize: job.heapsize ?? 8 * 1024 * 1024,
  linebuffer: false,
  stdout: (bytes) => out.push(bytes),
  stderr: (bytes) => err.push(bytes),
});

function flush(chunks, stream) {
  if (chunks.length) stream.write(Buffer.concat(chunks.map((c) => Buffer.from(c))));
  chunks.length = 0;
}

let exitCode = 0;
try {
  mp.FS.mkdirTree(APP_DIR);
  for (const [name, text] of Object.entries(job.files ?? {})) {
    if (name.startsWith("/") || name.split("/").includes("..")) throw new Error(`bad file name: ${name}`);
    const path = `${APP_DIR}/${name}`;
    mp.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    mp.FS.writeFile(path, text);
  }
  mp.FS.chdir(APP_DIR);
  mp.runPython(`import sys\nsys.path.insert(0, ${JSON.stringify(APP_DIR)})`);
  await mp.runPythonAsync(job.script);
} catch (error) {
  if (error?.name === "PythonError" && error.type === "SystemExit") {
    // The message is the traceback; its last line is "SystemExit: <code>" ("" for None).
    const code = error.message.trim().split("\n").pop().replace(/^SystemExit:?\s*/, "");
    if (/^-?\d+$/.test(code)) exitCode = Number(code) & 0xff;
    else if (code !== "") {
      err.push(Buffer.from(code + "\n"));
      exitCode = 1;
    }
  } else if (error?.name === "PythonError") {
    err.push(Buffer.from(error.message));
    exitCode = 1;
  } else {
    err.push(Buffer.from(`mp_runner: ${error?.stack ?? error}\n`));
    exitCode = 2;
  }
}
flush(out, process.stdout);
flush(err, process.stderr);
process.exitCode = exitCode;
