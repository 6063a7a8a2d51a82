// Every wait of a run (retry pauses, the rate limiter's, Bulk API job polls) goes through here, so
// a stopping run ends each of them at once instead of sleeping it out.
/** Resolves after `ms`, or at once when `stopping` is aborted (the caller checks which). */
export function sleep(ms: number, stopping?: AbortSignal): Promise<void> {
  if (!stopping) return new Promise((resolve) => setTimeout(resolve, ms));
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopping.addEventListener('abort', done, { once: true });
  });
}
