/** Time as a dependency, so tests can move it. Epoch milliseconds, as DIGIT uses everywhere. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };
