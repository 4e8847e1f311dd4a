/** Why an upgrade was refused by the connection caps. */
export type ConnectionRefusal = 'capacity' | 'per_ip';

/** Caps on open WebSocket connections, in total and per client IP (node-local by nature). */
export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  /** Reserves a slot for `ip`, or says why not. Release it with `release(ip)` exactly once. */
  acquire(ip: string): ConnectionRefusal | undefined {
    if (this.total >= this.maxTotal) return 'capacity';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'per_ip';
    this.perIp.set(ip, n + 1);
    this.total++;
    return undefined;
  }

  release(ip: string): void {
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
    this.total = Math.max(0, this.total - 1);
  }

  count(): number {
    return this.total;
  }

  /** Client IPs holding at least one slot. */
  ipCount(): number {
    return this.perIp.size;
  }
}
