// Requests sent and not yet answered: a budget the CRM reports lags them, so they count as spent.
export class UnderWay {
  count = 0;

  /** Counts one more request until the returned function is called (once; later calls do nothing). */
  start(): () => void {
    this.count += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count -= 1;
    };
  }
}
