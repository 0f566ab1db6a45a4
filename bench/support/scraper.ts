// A scraper in a process of its own, started under the idle scheduling policy (phases.ts
// runs it with `chrt --idle 0`; nice 19 as well): it GETs each path in turn, on one kept-alive
// connection, every `every` seconds, until SIGTERM; then it prints the times taken (ms, by
// path) as one JSON line and exits.
//
// So the scraper's own CPU (reading and parsing megabytes a second) does not take a core from
// the proxy under test, as a Prometheus on another host would not: on a two-core machine it
// otherwise counts against whatever is scraped.
//
//   chrt --idle 0 node bench/support/scraper.ts <port> <every seconds> <path> [<path> ...]

import { setPriority } from 'node:os';
import { get, keepAlive } from './admin.ts';

const [port, every, ...paths] = process.argv.slice(2);
setPriority(19);
const agent = keepAlive();
const times: number[][] = paths.map(() => []);
let running: Promise<void> = Promise.resolve();
const tick = (): void => {
  running = (async () => {
    for (const [i, path] of paths.entries()) times[i]!.push(Math.round((await get(Number(port), path, agent)).ms * 100) / 100);
  })();
};
tick();
const timer = setInterval(tick, Number(every) * 1000);
// The benchmark gone (killed): this process is another's child now, and stops.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();
process.once('SIGTERM', () => {
  clearInterval(timer);
  void running.then(() => {
    agent.destroy();
    process.stdout.write(`${JSON.stringify(times)}\n`, () => process.exit(0));
  });
});
