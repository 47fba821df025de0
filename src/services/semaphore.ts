/**
 * A counting semaphore: at most `free` holders at once, the others waiting in the order they
 * asked; a release hands the slot straight to the next in line. It bounds the window of
 * outstanding C-STOREs on an association and the process's outbound associations.
 */
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
