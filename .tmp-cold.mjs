const t0 = performance.now();
await import('chevrotain');
const t1 = performance.now();
const m = await import(process.argv[2]);
const t2 = performance.now();
m.readDtab('/svc/web => /svc/web-v2');
const t3 = performance.now();
console.log(`start->script ${t0.toFixed(1)} chevrotain ${(t1-t0).toFixed(1)} ours ${(t2-t1).toFixed(1)} firstcall ${(t3-t2).toFixed(1)} total ${t3.toFixed(1)}`);
