/**
 * A background pass that runs one at a time: after each kick, and every `pollIntervalMs` while
 * started. An ask during a pass gets that pass, which then runs once more (so the ask's work is
 * seen); `again(result)` asks for one more pass too (e.g. a pass that made progress).
 */
export type PassLoop = {
  /** Runs a pass now, or joins the one running; answers the total of the passes it ran. */
  run(): Promise<number>;
  kick(): void;
  start(): void;
  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void>;
};

export type PassLoopOptions = {
  pollIntervalMs: number;
  again?: (result: number) => boolean;
  /** A pass that throws is retried at the next poll; this hears about it. */
  onError?: (error: unknown) => void;
};

export function createPassLoop(pass: () => Promise<number>, options: PassLoopOptions): PassLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = true;

  function run(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        const result = await pass();
        total += result;
        if (options.again?.(result)) again = true;
      } while (again);
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(delay: number) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      run()
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => schedule(options.pollIntervalMs));
    }, delay);
    timer.unref();
  }

  return {
    run,
    kick: () => schedule(0),
    start() {
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}
