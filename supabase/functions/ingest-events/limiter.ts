// Bounds the number of concurrent database statements of this function instance: at most
// `concurrency` run (the pool size), at most `maxQueue` wait, none waits longer than `maxWaitMs`.
// A request that cannot get a slot is answered 429 + Retry-After instead of piling up.

export class Saturated extends Error {
  constructor(reason: string) {
    super(`database pool saturated: ${reason}`);
    this.name = 'Saturated';
  }
}

export interface LimiterOptions {
  concurrency: number;
  maxQueue: number;
  maxWaitMs: number;
}

export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
  stats(): { active: number; queued: number };
}

export function createLimiter(opts: LimiterOptions): Limiter {
  let active = 0;
  const queue: { grant: () => void; timer: ReturnType<typeof setTimeout> }[] = [];

  const release = () => {
    const next = queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant(); // the slot passes straight to the next waiter
    } else active--;
  };

  const acquire = (): Promise<void> => {
    if (active < opts.concurrency) {
      active++;
      return Promise.resolve();
    }
    if (queue.length >= opts.maxQueue) return Promise.reject(new Saturated(`${queue.length} requests already waiting`));
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: resolve,
        timer: setTimeout(() => {
          const i = queue.indexOf(entry);
          if (i >= 0) queue.splice(i, 1);
          reject(new Saturated(`no connection within ${opts.maxWaitMs} ms`));
        }, opts.maxWaitMs),
      };
      queue.push(entry);
    });
  };

  return {
    async run(fn) {
      await acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    },
    stats: () => ({ active, queued: queue.length }),
  };
}
