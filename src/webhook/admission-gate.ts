/**
 * At most `limit` admissions in progress; the rest wait their turn, first come first served,
 * before their body is read. An admission is CPU work on one thread, so more than a few at once
 * only interleave: they do not finish sooner, but each holds its parsed review, its patch and
 * its response buffers meanwhile (at 64 concurrent large pods, 217 MiB RSS against 103 at 8).
 * A waiting request's body stays in the socket (Node stops reading it once its buffer is full),
 * which is the backpressure the apiserver's connection already has.
 */
export class AdmissionGate {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  readonly #onLeave: () => void;

  /** `onLeave` runs after every admission leaves (its slot passed on or freed). */
  constructor(limit: number, onLeave: () => void = () => undefined) {
    this.#onLeave = onLeave;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`admission concurrency must be a positive integer, got ${limit}`);
    }
    this.#limit = limit;
  }

  /** Resolves when this admission may run; call the returned function exactly once when done. */
  async enter(): Promise<() => void> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter: #active stays the same.
      if (next) next();
      else this.#active--;
      this.#onLeave();
    };
  }

  /** Slots an arriving admission would get at once: 0 while any admission waits. */
  freeSlots(): number {
    return this.#waiting.length > 0 ? 0 : this.#limit - this.#active;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
