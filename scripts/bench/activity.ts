/**
 * Samples pg_stat_activity of the bench database every 200 ms while a scenario is measured, to
 * show what the database sessions were doing: running a statement (on CPU or waiting on a lock,
 * WAL flush, I/O...) or sitting `idle in transaction` (waiting for the application).
 */
import pg from 'pg';

export interface ActivityLine {
  /** Average number of sessions in this state over the samples. */
  sessions: number;
  /** e.g. `active, Lock:transactionid` or `idle in transaction, Client:ClientRead`. */
  what: string;
  /** The statement (first characters, whitespace collapsed). */
  query: string;
}

export interface ActivitySummary {
  samples: number;
  /** Average non-idle sessions. */
  busySessions: number;
  top: ActivityLine[];
}

/**
 * The cluster's checkpoint and WAL counters: buffers the checkpointer has written
 * (pg_stat_checkpointer on PostgreSQL 17 and later, pg_stat_bgwriter before) and full-page images
 * written to WAL (pg_stat_wal, PostgreSQL 14 and later). Cluster-wide: on a shared server other
 * databases' checkpoints count too.
 */
export interface CheckpointCounters {
  buffers: number;
  fullPageImages: number;
}

/** Scans and the rows (index entries) they read, per table (sequential) or index. */
export type TableStats = Map<string, { scans: number; tuples: number }>;

export class ActivitySampler {
  private readonly client: pg.Client;
  private timer: NodeJS.Timeout | undefined;
  private counts = new Map<string, number>();
  private samples = 0;
  private busy = 0;
  private inFlight = false;
  /** The subquery that gave the checkpointer's buffers on this server (see checkpointCounters). */
  private checkpointBuffers: string | undefined;

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url, application_name: 'bench-activity-sampler' });
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  start(): void {
    this.stop();
    this.counts = new Map();
    this.samples = 0;
    this.busy = 0;
    this.timer = setInterval(() => void this.sample(), 200);
  }

  private async sample(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const { rows } = await this.client.query<{ state: string; wait: string | null; query: string }>(
        `select state,
                case when wait_event is null then null else wait_event_type || ':' || wait_event end as wait,
                left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()
            and state is not null and state <> 'idle'`,
      );
      this.samples += 1;
      this.busy += rows.length;
      for (const row of rows) {
        const what = row.wait
          ? `${row.state}, ${row.wait}`
          : `${row.state}${row.state === 'active' ? ', CPU' : ''}`;
        const key = `${what}\u0000${row.query}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
    } catch {
      // A failed sample is skipped.
    } finally {
      this.inFlight = false;
    }
  }

  /** Stops sampling and returns the most frequent states. */
  stop(limit = 6): ActivitySummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const samples = Math.max(1, this.samples);
    const top = [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([key, count]) => {
        const [what = '', query = ''] = key.split('\u0000');
        return { sessions: count / samples, what, query };
      });
    return { samples: this.samples, busySessions: this.busy / samples, top };
  }

  /**
   * Scan counters of every table (sequential scans) and index (index scans), keyed by a readable
   * name; an empty map if the query fails.
   */
  async tableStats(): Promise<TableStats> {
    try {
      const { rows } = await this.client.query<{ name: string; scans: string; tuples: string }>(
        `select relname || ' (sequential scans)' as name, seq_scan as scans, seq_tup_read as tuples
           from pg_stat_user_tables
         union all
         select indexrelname || ' on ' || relname, idx_scan, idx_tup_read
           from pg_stat_user_indexes`,
      );
      return new Map(rows.map((r) => [r.name, { scans: Number(r.scans), tuples: Number(r.tuples) }]));
    } catch {
      return new Map();
    }
  }

  /**
   * The checkpoint counters now; null when the server has no such views (or the query fails). The
   * view that answered is remembered, so a server before PostgreSQL 17 is not sent (and does not
   * log) a failing query for pg_stat_checkpointer each time.
   */
  async checkpointCounters(): Promise<CheckpointCounters | null> {
    const fpi = '(select wal_fpi from pg_stat_wal)';
    const views = this.checkpointBuffers
      ? [this.checkpointBuffers]
      : [
          '(select buffers_written from pg_stat_checkpointer)',
          '(select buffers_checkpoint from pg_stat_bgwriter)',
        ];
    for (const buffers of views) {
      try {
        const { rows } = await this.client.query<{ buffers: string; fpi: string }>(
          `select ${buffers}::text as buffers, ${fpi}::text as fpi`,
        );
        this.checkpointBuffers = buffers;
        return { buffers: Number(rows[0]!.buffers), fullPageImages: Number(rows[0]!.fpi) };
      } catch {
        // The other view (PostgreSQL 16 and before, or 17 and later).
      }
    }
    return null;
  }

  async close(): Promise<void> {
    this.stop();
    await this.client.end();
  }
}
