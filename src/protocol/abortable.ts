// Lets a consumer stop iterating an async source at once when a signal fires, even while the
// source is waiting (stdin with no new line), which a plain for-await cannot do.
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // One abort listener, pointed at the read in progress. Racing each read against one shared
  // never-settling promise would leave a reaction on it per item: memory growing with the input.
  let stopWaiting: (() => void) | undefined;
  const onAbort = () => stopWaiting?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const next = await new Promise<IteratorResult<T>>((resolve, reject) => {
        stopWaiting = () => resolve({ done: true, value: undefined });
        iterator.next().then(resolve, reject);
      });
      stopWaiting = undefined;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    void iterator.return?.();
  }
}
