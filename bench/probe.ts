// Preloaded into every measured child (node --import): samples RSS a few times a second and, at
// exit, writes the peak RSS, the CPU time and the samples to the file named by
// CRM_ACTIVATE_BENCH_PROBE. The samples show whether memory grows as the run goes on.
import { writeFileSync } from 'node:fs';

const SAMPLE_MS = 250;
const out = process.env.CRM_ACTIVATE_BENCH_PROBE;
if (out) {
  const started = performance.now();
  const samples: [number, number][] = [];
  const sample = () => samples.push([Math.round(performance.now() - started), Math.round(process.memoryUsage.rss() / 1024)]);
  setInterval(sample, SAMPLE_MS).unref();
  process.on('exit', () => {
    sample();
    const usage = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKb: usage.maxRSS, cpuUs: usage.userCPUTime + usage.systemCPUTime, rssKbSamples: samples }));
  });
}
