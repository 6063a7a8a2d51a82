// Preloaded into every measured child (node --import): at exit, writes the process's peak RSS and
// CPU time to the file named by CRM_ACTIVATE_BENCH_PROBE. Costs nothing while the child runs.
import { writeFileSync } from 'node:fs';

const out = process.env.CRM_ACTIVATE_BENCH_PROBE;
if (out) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKb: usage.maxRSS, cpuUs: usage.userCPUTime + usage.systemCPUTime }));
  });
}
