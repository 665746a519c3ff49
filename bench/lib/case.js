// Runs one (workload, system) case in a process of its own, so that one system's garbage,
// JIT state, open sockets or a hang cannot colour the next one's figures. Started by run.js
// with --expose-gc; sends its rows back over IPC and exits. Run by hand (no IPC channel) it
// prints them instead:  node --expose-gc bench/lib/case.js '{"workload":"e2e","system":"memory","quick":true,"ns":"x"}'
const spec = JSON.parse(process.argv[2]);
// The library's timers are unref'd (as they should be in an app): hold the loop open ourselves.
const keepAlive = setInterval(() => {}, 1 << 30);

function reply(message, code) {
  clearInterval(keepAlive);
  if (process.send) process.send(message, () => process.exit(code));
  else {
    console.log(message.rows ? JSON.stringify(message.rows, null, 1) : message.error);
    process.exit(code);
  }
}
const fail = (error) => reply({ error: error?.stack ?? String(error) }, 1);
// A peer's background failure (lost connection, pool exhausted) must come back as a reason.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

try {
  const { run } = await import(`../workloads/${spec.workload}.js`);
  reply({ rows: await run(spec) }, 0);
} catch (error) {
  fail(error);
}
