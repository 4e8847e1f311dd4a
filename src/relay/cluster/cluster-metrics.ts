import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the shared stores and of cross-node fan-out (only registered in PETREL_STORE=postgres). */
export class ClusterMetrics {
  readonly redisUp: Gauge;
  readonly published: Counter<'kind'>;
  readonly publishFailures: Counter;
  readonly received: Counter<'kind'>;
  readonly pollRounds: Counter;
  readonly rateLimitFallbacks: Counter;
  readonly poolConnections: Gauge<'state'>;
  readonly poolWaiting: Gauge;

  constructor(registry: Registry, pool: () => { total: number; idle: number; waiting: number }) {
    const registers = [registry];
    this.redisUp = new Gauge({ name: 'petrel_cluster_redis_up', help: '1 while both Redis connections (commands, subscriptions) are ready', registers });
    this.published = new Counter({ name: 'petrel_cluster_published_total', help: 'Notifications published to other nodes, by kind (deposit, signal, prekeys_low, devices_changed, resync; link_data, link_closed, link_pause, link_resume on device-link channels)', labelNames: ['kind'], registers });
    this.publishFailures = new Counter({ name: 'petrel_cluster_publish_failures_total', help: 'Notifications that could not be published (Redis unreachable); recipients catch up by polling', registers });
    this.received = new Counter({ name: 'petrel_cluster_received_total', help: 'Notifications received from other nodes, by kind', labelNames: ['kind'], registers });
    this.pollRounds = new Counter({ name: 'petrel_cluster_poll_rounds_total', help: 'Rounds in which every local delivery pump re-read its mailbox because notifications may have been missed', registers });
    this.rateLimitFallbacks = new Counter({ name: 'petrel_rate_limit_fallbacks_total', help: 'Rate-limit takes answered by this node\'s own buckets because Redis was unreachable', registers });
    this.poolConnections = new Gauge({
      name: 'petrel_store_pool_connections',
      help: 'PostgreSQL connections of this node, by state (idle, busy)',
      labelNames: ['state'],
      registers,
      collect: () => {
        const p = pool();
        this.poolConnections.set({ state: 'idle' }, p.idle);
        this.poolConnections.set({ state: 'busy' }, p.total - p.idle);
      },
    });
    this.poolWaiting = new Gauge({
      name: 'petrel_store_pool_waiting',
      help: 'Queries waiting for a free PostgreSQL connection on this node',
      registers,
      collect: () => this.poolWaiting.set(pool().waiting),
    });
  }
}
